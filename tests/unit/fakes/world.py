"""One organization, one mapped project and its tasks over the fakes, with the real services."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from prelabel.container import Container
from prelabel.detector_wire import Detection
from prelabel.domain.entities import LabelingState, ProjectRef, Task
from prelabel.domain.ids import now_iso
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.domain.mapping import MappingRowInput
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.ports.labeling import BatchItem
from prelabel.services.jobs.context import StepLimits
from prelabel.services.labeling import WorkerSettings
from prelabel.services.organizations import OrganizationAdmin
from prelabel.settings import Settings
from tests.unit.fakes.jobs import JobLoop
from tests.unit.fakes.models import FakeModelFiles, MemoryModels, ScriptedValidator
from tests.unit.fakes.outside import (
    FakeEndpoints,
    FakeLinks,
    FakeOrchestrator,
    MemoryExportFiles,
    MemoryManifests,
    MemoryObjects,
    MemorySlicePlans,
    ScriptedDetector,
)
from tests.unit.fakes.reviewed import (
    MemoryQualityReports,
    MemoryReviewedFiles,
    MemoryReviewedLabels,
    MemoryTaskFinder,
    ReviewedDb,
)
from tests.unit.fakes.store import (
    MemoryBatchStore,
    MemoryCrashLog,
    MemoryDatasets,
    MemoryDb,
    MemoryJobs,
    MemoryOrgs,
    MemoryProjects,
    MemoryRuns,
    MemoryTasks,
)

ORG = "acme"
BUCKET = "data"
CONFIG = [
    LabelEntry("veh", "Vehicle", Geometry.BBOX),
    LabelEntry("per", "Person", Geometry.BBOX),
    LabelEntry("road", "Road", Geometry.POLYGON),
]
# The scripted detector sees a car and a person in every image sent to it.
CAR = Detection(2, "car", 0.9, (10.0, 10.0, 50.0, 40.0))
PERSON = Detection(0, "person", 0.8, (60.0, 5.0, 90.0, 60.0))


def jpeg(width: int = 128, height: int = 96) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 140, 160)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class World:
    """The fakes, and the services as the production container wires them over those fakes:
    a unit test runs the same composition a function does, only the adapters differ."""

    db: MemoryDb = field(default_factory=MemoryDb)
    objects: MemoryObjects = field(default_factory=MemoryObjects)
    detector: ScriptedDetector = field(
        default_factory=lambda: ScriptedDetector(answer=lambda _: [CAR, PERSON])
    )
    orchestrator: FakeOrchestrator = field(default_factory=FakeOrchestrator)
    endpoints: FakeEndpoints = field(default_factory=FakeEndpoints)
    manifests: MemoryManifests = field(default_factory=MemoryManifests)
    batch_size: int = 4
    job_orchestrator: FakeOrchestrator = field(default_factory=FakeOrchestrator)
    limits: StepLimits = field(default_factory=StepLimits)
    bucket: str = BUCKET
    grant_buckets: tuple[str, ...] = ()
    model_files: FakeModelFiles = field(default_factory=FakeModelFiles)
    validator: ScriptedValidator = field(default_factory=ScriptedValidator)
    validation_orchestrator: FakeOrchestrator = field(default_factory=FakeOrchestrator)

    def __post_init__(self) -> None:
        self.orgs = MemoryOrgs(self.db)
        self.projects = MemoryProjects(self.db)
        self.tasks = MemoryTasks(self.db)
        self.runs = MemoryRuns(self.db)
        self.jobs = MemoryJobs(self.db)
        self.models = MemoryModels(self.db)
        self.export_files = MemoryExportFiles(self.objects, self.bucket)
        self.rdb = ReviewedDb()
        self.reviewed = MemoryReviewedLabels(self.db, self.rdb)
        self.finder = MemoryTaskFinder(self.db)
        self.files = MemoryReviewedFiles(self.objects, self.bucket)
        settings = Settings(
            data_bucket=self.bucket,
            dataset_buckets=(self.bucket, *self.grant_buckets),
            batch_size=self.batch_size,
        )
        self.services = Container(settings).override(
            orgs=self.orgs,
            ledger=self.orgs,
            projects=self.projects,
            datasets=MemoryDatasets(self.db),
            tasks=self.tasks,
            runs=self.runs,
            jobs=self.jobs,
            batches=MemoryBatchStore(self.db),
            crash_log=MemoryCrashLog(self.db),
            image_source=self.objects,
            dataset_objects=self.objects,
            export_files=self.export_files,
            slice_plans=MemorySlicePlans(self.objects, self.bucket),
            image_links=FakeLinks(),
            detector=self.detector,
            manifests=self.manifests,
            orchestrator=self.orchestrator,
            endpoint_capacity=self.endpoints,
            job_orchestrator=self.job_orchestrator,
            step_limits=self.limits,
            worker_settings=WorkerSettings(input_size=64, fetch_threads=2),
            reviewed_labels=self.reviewed,
            task_finder=self.finder,
            reviewed_files=self.files,
            quality_reports=MemoryQualityReports(self.rdb),
            models=self.models,
            model_files=self.model_files,
            model_validator=self.validator,
            validation_orchestrator=self.validation_orchestrator,
        )
        self.loop = JobLoop(
            self.services.job_runner,
            self.services.job_finisher,
            self.job_orchestrator,
            self.objects,
        )

    def __getattr__(self, name: str) -> Any:
        # Services, and the fakes not kept above (datasets, batches, crash_log, image_links).
        if name == "services":  # not built yet: __post_init__ failed or has not run
            raise AttributeError(name)
        return getattr(self.services, name)

    def project(self, *, waiting: int, backlog: int = 0, limit: int = 1000) -> ProjectRef:
        """A TEAM_PRO organization with `limit` left and a project mapping car and person."""
        if ORG not in self.db.orgs:
            OrganizationAdmin(self.orgs, DEFAULT_MONTHLY_LIMITS).create(
                ORG, "Acme", Plan.TEAM_PRO, period="2026-11"
            )
        self.orgs.set_remaining(ORG, limit)
        ref = self.project_service.create(ORG, "Streets", CONFIG).ref
        self.project_service.replace_mapping(
            ref, [MappingRowInput("car", "veh", None), MappingRowInput("person", "per", None)], 0.5
        )
        tasks = []
        for i in range(waiting + backlog):
            key = f"{ORG}/img_{i:04d}.jpg"
            self.objects.put(BUCKET, key, jpeg())
            state = LabelingState.WAITING if i < waiting else LabelingState.BACKLOG
            tasks.append(Task(ref, f"t{i:04d}", "ds1", BUCKET, key, state, created_at=now_iso()))
        self.tasks.add_many(tasks)
        return ref

    def batches_of(self, run_id: str) -> list[BatchItem]:
        return self.manifests.items[run_id]

    def run_all(self, run_id: str) -> None:
        """What the Distributed Map does: every batch of the manifest through the worker."""
        for item in self.batches_of(run_id):
            self.worker.label_batch(item)

    def prepare(self, ref: ProjectRef, run_id: str) -> None:
        self.run_service.prepare(
            project_id=ref.project_id,
            org_id=ref.org_id,
            execution_name=run_id,
            execution_arn=f"arn:exec:{run_id}",
        )
