"""Prelabel: AI pre-labeling for image annotation projects."""
