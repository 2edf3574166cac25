"""Jobs state machine's last step: the job's final status and what it leaves on its dataset."""

from __future__ import annotations

from prelabel.container import Container
from prelabel.entrypoints.job_events import JobFinishEvent, JobFinishResult
from prelabel.entrypoints.job_handler import job_handler, logger


@job_handler(JobFinishEvent, "job_finish")
def handler(event: JobFinishEvent, c: Container) -> JobFinishResult:
    job = c.job_finisher.finish(event.job.ref, event.job.jobId, event.failure)
    logger.info("job finished", extra={"status": job.status.value, "error": job.error})
    return JobFinishResult(jobId=job.job_id, status=job.status.value)
