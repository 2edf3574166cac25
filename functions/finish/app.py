"""Last state and console-stop rule target: give the run its final status."""

from prelabel.entrypoints.finish import handler

__all__ = ["handler"]
