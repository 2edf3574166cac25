"""Composition root: the adapters and services of a function, built lazily from its settings.

One container per cold start (`container()`); tests swap it in one place (`use_container`).
Everything is made on first use, so a function pays only for what it calls: the API never
imports the worker's code or Pillow.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from prelabel.settings import FUNCTION_NEEDS, ConfigurationError, Settings

if TYPE_CHECKING:
    from pynamodb.connection import Connection

    from prelabel.adapters.dynamodb.batches import DynamoBatchStore, DynamoCrashLog
    from prelabel.adapters.dynamodb.detector_models import DynamoModelRepository
    from prelabel.adapters.dynamodb.jobs import DynamoJobRepository
    from prelabel.adapters.dynamodb.organizations import DynamoLedger, DynamoOrganizationRepository
    from prelabel.adapters.dynamodb.projects import DynamoDatasetRepository, DynamoProjectRepository
    from prelabel.adapters.dynamodb.quality_reports import DynamoQualityReports
    from prelabel.adapters.dynamodb.reviewed_labels import DynamoReviewedLabels
    from prelabel.adapters.dynamodb.runs import DynamoRunRepository
    from prelabel.adapters.dynamodb.shards import Layouts
    from prelabel.adapters.dynamodb.task_facts import DynamoTaskFinder
    from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository
    from prelabel.adapters.s3_datasets import S3DatasetObjects
    from prelabel.adapters.s3_export_files import S3ExportFiles
    from prelabel.adapters.s3_images import S3ImageLinks
    from prelabel.adapters.s3_model_files import S3ModelFiles
    from prelabel.adapters.s3_objects import S3ImageSource, S3ManifestStore
    from prelabel.adapters.s3_plans import S3SlicePlans
    from prelabel.adapters.s3_reviewed_files import S3ReviewedFiles
    from prelabel.adapters.sagemaker_capacity import SageMakerEndpointCapacity
    from prelabel.adapters.sagemaker_detector import SageMakerDetector
    from prelabel.adapters.stepfunctions import StepFunctionsOrchestrator
    from prelabel.ports.detector_models import ModelValidator
    from prelabel.services.assistant import AssistantService
    from prelabel.services.datasets import DatasetService
    from prelabel.services.detector_models import ModelService
    from prelabel.services.exports import ExportService
    from prelabel.services.images import ImageService
    from prelabel.services.jobs.context import StepLimits
    from prelabel.services.jobs.finish import JobFinisher
    from prelabel.services.jobs.review_ports import ReviewPorts
    from prelabel.services.jobs.runner import JobRunner
    from prelabel.services.jobs.service import JobService
    from prelabel.services.labeling import BatchWorker, WorkerSettings
    from prelabel.services.locations import LocationService
    from prelabel.services.model_validation import ModelValidationJob
    from prelabel.services.organizations import MonthlyReset, OrganizationAdmin
    from prelabel.services.project_detector import ProjectDetectorService
    from prelabel.services.projects import ProjectService
    from prelabel.services.quality import QualityService
    from prelabel.services.reshard import ReshardService
    from prelabel.services.review_samples import ReviewSampleService
    from prelabel.services.reviewed_imports import ReviewedImportService
    from prelabel.services.run_sizing import RunSizing
    from prelabel.services.runs import RunService
    from prelabel.services.tasks import TaskService


def client_factory(service: str, region: str, **config: Any) -> Callable[[], Any]:
    """botocore, not boto3: boto3 and s3transfer add ~80 ms to every cold start for nothing here.

    Clients are made on first use, so a function pays only for the services it calls. `config`
    becomes the client's botocore Config (e.g. `signature_version="s3v4"`).
    """

    def make() -> Any:
        from botocore.config import Config

        from prelabel.adapters.botocore_sessions import session

        return session().create_client(
            service, region_name=region, config=Config(**config) if config else None
        )

    return make


class Container:
    def __init__(self, settings: Settings) -> None:
        from prelabel.adapters.dynamodb.models import bind_tables

        self.settings = settings
        bind_tables(settings)

    def override(self, **parts: Any) -> Container:
        """Replace adapters or services (tests): the container then hands these out."""
        for name, part in parts.items():
            if not isinstance(getattr(type(self), name, None), cached_property):
                raise AttributeError(f"the container has no part named {name!r}")
            self.__dict__[name] = part
        return self

    # --- adapters -------------------------------------------------------------------------

    @cached_property
    def connection(self) -> Connection:
        from pynamodb.connection import Connection

        return Connection(region=self.settings.region, host=self.settings.dynamodb_endpoint)

    @cached_property
    def orgs(self) -> DynamoOrganizationRepository:
        from prelabel.adapters.dynamodb.organizations import DynamoOrganizationRepository

        return DynamoOrganizationRepository()

    @cached_property
    def ledger(self) -> DynamoLedger:
        from prelabel.adapters.dynamodb.organizations import DynamoLedger

        return DynamoLedger()

    @cached_property
    def projects(self) -> DynamoProjectRepository:
        from prelabel.adapters.dynamodb.projects import DynamoProjectRepository

        return DynamoProjectRepository(self.settings.task_shards)

    @cached_property
    def layouts(self) -> Layouts:
        """Where each project's tasks live: one cache for the tasks and the batches."""
        from prelabel.adapters.dynamodb.shards import Layouts

        return Layouts()

    @cached_property
    def datasets(self) -> DynamoDatasetRepository:
        from prelabel.adapters.dynamodb.projects import DynamoDatasetRepository

        return DynamoDatasetRepository()

    @cached_property
    def tasks(self) -> DynamoTaskRepository:
        from prelabel.adapters.dynamodb.tasks import DynamoTaskRepository

        s = self.settings
        return DynamoTaskRepository(self.connection, s.cursor_mac_key, self.layouts, s.task_shards)

    @cached_property
    def runs(self) -> DynamoRunRepository:
        from prelabel.adapters.dynamodb.runs import DynamoRunRepository

        return DynamoRunRepository(self.connection)

    @cached_property
    def jobs(self) -> DynamoJobRepository:
        from prelabel.adapters.dynamodb.jobs import DynamoJobRepository

        return DynamoJobRepository()

    @cached_property
    def dataset_objects(self) -> S3DatasetObjects:
        from prelabel.adapters.s3_datasets import S3DatasetObjects

        return S3DatasetObjects(client_factory("s3", self.settings.region))

    @cached_property
    def export_files(self) -> S3ExportFiles:
        from prelabel.adapters.s3_export_files import S3ExportFiles

        return S3ExportFiles(
            client_factory("s3", self.settings.region), self.settings.data_bucket or ""
        )

    @cached_property
    def image_links(self) -> S3ImageLinks:
        from prelabel.adapters.s3_images import S3ImageLinks

        return S3ImageLinks(client_factory("s3", self.settings.region, signature_version="s3v4"))

    @cached_property
    def batches(self) -> DynamoBatchStore:
        from prelabel.adapters.dynamodb.batches import DynamoBatchStore

        return DynamoBatchStore(self.connection, self.layouts)

    @cached_property
    def crash_log(self) -> DynamoCrashLog:
        from prelabel.adapters.dynamodb.batches import DynamoCrashLog

        return DynamoCrashLog()

    @cached_property
    def image_source(self) -> S3ImageSource:
        from prelabel.adapters.s3_objects import S3ImageSource

        return S3ImageSource(client_factory("s3", self.settings.region))

    @cached_property
    def detector(self) -> SageMakerDetector:
        from prelabel.adapters.sagemaker_detector import SageMakerDetector

        return SageMakerDetector(
            client_factory("sagemaker-runtime", self.settings.region),
            self.settings.detector_endpoint,
            models_endpoint=self.settings.models_endpoint or None,
        )

    @cached_property
    def endpoint_capacity(self) -> SageMakerEndpointCapacity:
        from prelabel.adapters.sagemaker_capacity import SageMakerEndpointCapacity

        return SageMakerEndpointCapacity(client_factory("sagemaker", self.settings.region))

    @cached_property
    def manifests(self) -> S3ManifestStore:
        from prelabel.adapters.s3_objects import S3ManifestStore

        return S3ManifestStore(
            client_factory("s3", self.settings.region), self.settings.data_bucket or ""
        )

    @cached_property
    def orchestrator(self) -> StepFunctionsOrchestrator:
        from prelabel.adapters.stepfunctions import StepFunctionsOrchestrator

        return StepFunctionsOrchestrator(
            client_factory("stepfunctions", self.settings.region), self.settings.state_machine_arn
        )

    @cached_property
    def job_orchestrator(self) -> StepFunctionsOrchestrator:
        from prelabel.adapters.stepfunctions import StepFunctionsOrchestrator

        return StepFunctionsOrchestrator(
            client_factory("stepfunctions", self.settings.region),
            self.settings.jobs_state_machine_arn,
            "JOBS_STATE_MACHINE_ARN",
        )

    @cached_property
    def reviewed_labels(self) -> DynamoReviewedLabels:
        from prelabel.adapters.dynamodb.reviewed_labels import DynamoReviewedLabels

        return DynamoReviewedLabels(self.connection, self.layouts)

    @cached_property
    def task_finder(self) -> DynamoTaskFinder:
        from prelabel.adapters.dynamodb.task_facts import DynamoTaskFinder

        return DynamoTaskFinder(self.layouts)

    @cached_property
    def quality_reports(self) -> DynamoQualityReports:
        from prelabel.adapters.dynamodb.quality_reports import DynamoQualityReports

        return DynamoQualityReports()

    @cached_property
    def reviewed_files(self) -> S3ReviewedFiles:
        from prelabel.adapters.s3_reviewed_files import S3ReviewedFiles

        return S3ReviewedFiles(
            client_factory("s3", self.settings.region, signature_version="s3v4"),
            self.settings.data_bucket or "",
        )

    @cached_property
    def models(self) -> DynamoModelRepository:
        from prelabel.adapters.dynamodb.detector_models import DynamoModelRepository

        return DynamoModelRepository(self.connection)

    @cached_property
    def model_files(self) -> S3ModelFiles:
        from prelabel.adapters.s3_model_files import S3ModelFiles

        return S3ModelFiles(
            client_factory("s3", self.settings.region, signature_version="s3v4"),
            self.settings.models_bucket or "",
        )

    @cached_property
    def model_validator(self) -> ModelValidator:
        # The validator runs the detector's code (ONNX Runtime, OpenCV), which the layer does
        # not carry: the validation function installs it (prelabel_validation).
        raise ConfigurationError("only the model validation function validates model files")

    @cached_property
    def validation_orchestrator(self) -> StepFunctionsOrchestrator:
        from prelabel.adapters.stepfunctions import StepFunctionsOrchestrator

        return StepFunctionsOrchestrator(
            client_factory("stepfunctions", self.settings.region),
            self.settings.model_validation_state_machine_arn,
            "MODEL_VALIDATION_STATE_MACHINE_ARN",
        )

    # --- services -------------------------------------------------------------------------

    @cached_property
    def run_service(self) -> RunService:
        from prelabel.services.runs import RunService

        return RunService(
            orgs=self.orgs,
            projects=self.projects,
            tasks=self.tasks,
            runs=self.runs,
            orchestrator=self.orchestrator,
            manifests=self.manifests,
            batch_size=self.settings.batch_size,
        )

    @cached_property
    def run_sizing(self) -> RunSizing:
        from prelabel.domain.run_concurrency import WorkerPace
        from prelabel.services.run_sizing import RunSizing

        s = self.settings
        return RunSizing(
            endpoints=self.endpoint_capacity,
            pace=WorkerPace(s.batch_size, s.worker_seconds_per_batch),
            images_per_second=s.detector_images_per_second,
            reserved=s.max_concurrency,
        )

    @cached_property
    def worker(self) -> BatchWorker:
        from prelabel.services.labeling import BatchWorker

        return BatchWorker(
            runs=self.runs,
            ledger=self.ledger,
            batches=self.batches,
            crash_log=self.crash_log,
            images=self.image_source,
            detector=self.detector,
            locations=self.locations,
            settings=self.worker_settings,
        )

    @cached_property
    def worker_settings(self) -> WorkerSettings:
        from prelabel.services.labeling import WorkerSettings

        return WorkerSettings(input_size=self.settings.detector_input_size)

    @cached_property
    def job_finisher(self) -> JobFinisher:
        from prelabel.services.jobs.finish import JobFinisher

        return JobFinisher(self.jobs, self.datasets)

    @cached_property
    def job_service(self) -> JobService:
        from prelabel.services.jobs.service import JobService

        return JobService(self.jobs, self.job_orchestrator, self.job_finisher)

    @cached_property
    def job_runner(self) -> JobRunner:
        from prelabel.services.jobs.context import JobContext
        from prelabel.services.jobs.runner import JobRunner

        return JobRunner(
            JobContext(
                projects=self.projects,
                datasets=self.datasets,
                tasks=self.tasks,
                jobs=self.jobs,
                locations=self.locations,
                objects=self.dataset_objects,
                exports=self.export_files,
                review=self.review_ports,
                plans=self.slice_plans,
                limits=self.step_limits,
            ),
            self.job_orchestrator,
        )

    @cached_property
    def slice_plans(self) -> S3SlicePlans:
        from prelabel.adapters.s3_plans import S3SlicePlans

        return S3SlicePlans(
            client_factory("s3", self.settings.region), self.settings.data_bucket or ""
        )

    @cached_property
    def review_ports(self) -> ReviewPorts:
        from prelabel.services.jobs.review_ports import ReviewPorts

        return ReviewPorts(
            reviewed=self.reviewed_labels,
            finder=self.task_finder,
            files=self.reviewed_files,
            reports=self.quality_reports,
            runs=self.runs,
        )

    @cached_property
    def step_limits(self) -> StepLimits:
        from prelabel.services.jobs.context import StepLimits

        return StepLimits(slices_at_once=self.settings.job_max_concurrency)

    @cached_property
    def dataset_service(self) -> DatasetService:
        from prelabel.services.datasets import DatasetService

        return DatasetService(self.projects, self.datasets, self.job_service)

    @cached_property
    def project_service(self) -> ProjectService:
        from prelabel.services.projects import ProjectService

        return ProjectService(self.projects, self.models)

    @cached_property
    def model_service(self) -> ModelService:
        from prelabel.services.detector_models import ModelService

        return ModelService(self.models, self.model_files, self.validation_orchestrator)

    @cached_property
    def project_detector_service(self) -> ProjectDetectorService:
        from prelabel.services.project_detector import ProjectDetectorService

        return ProjectDetectorService(self.projects, self.models)

    @cached_property
    def model_validation_job(self) -> ModelValidationJob:
        from prelabel.services.model_validation import ModelValidationJob

        return ModelValidationJob(self.models, self.model_files, self.model_validator)

    @cached_property
    def task_service(self) -> TaskService:
        from prelabel.services.tasks import TaskService

        return TaskService(self.projects, self.tasks, self.job_service)

    @cached_property
    def reshard_service(self) -> ReshardService:
        from prelabel.services.reshard import ReshardService

        return ReshardService(self.projects, self.tasks, self.job_service)

    @cached_property
    def reviewed_import_service(self) -> ReviewedImportService:
        from prelabel.services.reviewed_imports import ReviewedImportService

        return ReviewedImportService(self.projects, self.job_service, self.reviewed_files)

    @cached_property
    def quality_service(self) -> QualityService:
        from prelabel.services.quality import QualityService

        return QualityService(
            self.projects, self.tasks, self.reviewed_labels, self.quality_reports, self.job_service
        )

    @cached_property
    def assistant_service(self) -> AssistantService:
        from prelabel.services.assistant import AssistantService

        return AssistantService(self.orgs, self.projects, self.tasks)

    @cached_property
    def export_service(self) -> ExportService:
        from prelabel.services.exports import ExportService

        return ExportService(self.projects, self.tasks, self.job_service, self.image_links)

    @cached_property
    def review_sample_service(self) -> ReviewSampleService:
        from prelabel.services.review_samples import ReviewSampleService

        return ReviewSampleService(self.projects, self.tasks, self.job_service, self.image_links)

    @cached_property
    def image_service(self) -> ImageService:
        from prelabel.services.images import ImageService

        return ImageService(self.projects, self.tasks, self.image_links)

    @cached_property
    def organization_admin(self) -> OrganizationAdmin:
        from prelabel.services.organizations import OrganizationAdmin

        return OrganizationAdmin(self.orgs, self.settings.plan_limits)

    @cached_property
    def monthly_reset(self) -> MonthlyReset:
        from prelabel.services.organizations import MonthlyReset

        return MonthlyReset(self.orgs, self.ledger, self.settings.plan_limits)

    @cached_property
    def locations(self) -> LocationService:
        from prelabel.services.locations import LocationService

        s = self.settings
        return LocationService(self.orgs, s.data_bucket or "", s.grant_buckets)


_current: Container | None = None


def container(function: str | None = None) -> Container:
    """This function's container, built from the environment at first use; `function` (a key
    of FUNCTION_NEEDS) checks that the environment holds what that function reads."""
    global _current
    if _current is None:
        _current = Container(Settings.from_env(os.environ))
    if function:
        _current.settings.require(*FUNCTION_NEEDS[function])
    return _current


def use_container(c: Container | None) -> None:
    """Install a container (tests, local tools); None makes the next call read the environment."""
    global _current
    _current = c
