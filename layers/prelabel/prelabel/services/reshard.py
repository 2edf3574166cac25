"""Moving a legacy project's tasks to shards, as a job (its steps: services/jobs/reshard_step.py).

A project made before shards keeps all its tasks, pre-labels and counts in one partition each
(the write rate of one partition: ~500 tasks/s); this job moves them, a bounded slice per step,
to the shards every new project has. While it runs, no run starts and no other job or request
writes the project's tasks (they are refused with the job's id); views go on reading the tasks
wherever each one is. Each task moves with its counts in one transaction, so a crashed step
leaves every task in one place, counted once, and the step's rerun moves what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.entities import ProjectRef
from prelabel.domain.errors import Conflict
from prelabel.domain.jobs import Job, JobKind
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import TaskRepository
from prelabel.services.jobs.service import JobService, new_job


@dataclass(frozen=True)
class ReshardService:
    projects: ProjectRepository
    tasks: TaskRepository
    jobs: JobService

    def start(self, ref: ProjectRef) -> Job:
        """The job moving the project's tasks to shards (the running one, if one runs)."""
        project = self.projects.get(ref)
        sharding = self.tasks.sharding(ref)
        if sharding.moving_job is not None:
            current = self.jobs.find(ref, sharding.moving_job)
            if current is not None and current.running:
                return current
        elif sharding.shards is not None:
            raise Conflict(f"the project's tasks are spread over {sharding.shards} shards already")
        if project.active_run_id:
            raise Conflict(
                "a pre-labeling run is active; move the tasks to shards once it has ended"
            )
        total = self.tasks.counts(ref).total
        job = self.jobs.create(new_job(ref, JobKind.RESHARD, {}, total=total))
        try:
            # A job that ended without finishing (failed, stopped) is taken over.
            self.tasks.begin_resharding(ref, job.job_id, sharding.moving_job)
        except Conflict as exc:
            self.jobs.fail(job, exc.message)
            raise
        return self.jobs.start(job)
