"""State machine step: create the run if the console started it, write its manifest."""

from prelabel.entrypoints.prepare import handler

__all__ = ["handler"]
