"""Distributed Map item: pre-label one batch of tasks and charge for it in one commit."""

from prelabel.entrypoints.label_batch import handler

__all__ = ["handler"]
