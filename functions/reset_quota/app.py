"""Scheduled Lambda: restores every organization's monthly AI-assistance limit."""

from prelabel.entrypoints.reset_quota import handler

__all__ = ["handler"]
