"""What a job's step works with: the ports, the organization's locations and the slice sizes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prelabel.domain.jobs import Job, StepOutcome
from prelabel.ports.jobs import JobRepository
from prelabel.ports.objects import DatasetObjects, ExportFiles
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
    limits: StepLimits = field(default_factory=StepLimits)


Work = Callable[[JobContext, Job, dict[str, object]], StepOutcome]
