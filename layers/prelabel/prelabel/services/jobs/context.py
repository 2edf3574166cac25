"""What a job's step works with: the ports, the organization's locations and the slice sizes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prelabel.domain.jobs import Job, StepOutcome
from prelabel.ports.jobs import JobRepository
from prelabel.ports.objects import DatasetObjects, ExportFiles, SlicePlans
from prelabel.ports.projects import DatasetRepository, ProjectRepository
from prelabel.ports.tasks import TaskRepository
from prelabel.services.jobs.review_ports import ReviewPorts
from prelabel.services.locations import LocationService


@dataclass(frozen=True, slots=True)
class StepLimits:
    """How much one step does. A step of 10 listing pages writes up to 10,000 tasks in ~112
    transactions: seconds, far inside a Lambda's 15 minutes, and 100 steps per million images
    keep an execution far below Step Functions' 25,000 history events."""

    list_pages: int = 10
    page_keys: int = 1000
    manifest_lines: int = 10_000
    move_tasks: int = 5_000
    delete_tasks: int = 3_000
    export_progress_every: int = 5_000
    # Pre-labels a review sample's step reads (~20 MB of them at most): seconds.
    sample_prelabels: int = 20_000
    # Sliced jobs (services/jobs/slices.py): slices run at once (the Map's MaxConcurrency, from
    # the JOB_MAX_CONCURRENCY setting); how many slices a prefix is split into at most, with at
    # most so many listing requests; a manifest's bytes per slice; the tasks a move or a
    # disconnect gives one slice at least (fewer: one slice does it all, as one step did
    # before); the tasks of an export's slice (written in one step: well inside the 5 minutes
    # an EXPRESS child lives; an export of no more is one step); the seconds a slice's
    # execution runs before it hands its slice back; and the history events an execution may
    # have before it hands over to a fresh one (Step Functions' quota is 25,000).
    slices_at_once: int = 8
    plan_slices: int = 64
    plan_listings: int = 100
    manifest_slice_bytes: int = 4 * 1024 * 1024
    slice_tasks: int = 50_000
    export_slice_tasks: int = 20_000
    slice_seconds: float = 180.0
    history_events: int = 20_000


@dataclass
class JobContext:
    projects: ProjectRepository
    datasets: DatasetRepository
    tasks: TaskRepository
    jobs: JobRepository
    locations: LocationService
    objects: DatasetObjects
    exports: ExportFiles
    # Reviewed-label imports and quality reports (services/jobs/reviewed_*.py, quality_*.py).
    review: ReviewPorts
    plans: SlicePlans
    limits: StepLimits = field(default_factory=StepLimits)


Work = Callable[[JobContext, Job, dict[str, object]], StepOutcome]
