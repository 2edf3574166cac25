"""Jobs state machine step: one bounded slice of an import, move, disconnect, reconnect, export."""

from prelabel.entrypoints.job_step import handler

__all__ = ["handler"]
