"""Jobs state machine's last step: the job's final status."""

from prelabel.entrypoints.job_finish import handler

__all__ = ["handler"]
