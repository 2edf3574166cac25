"""Composition root: builds the services a function needs from its settings, once per cold start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pynamodb.connection import Connection

from prelabel.adapters.dynamodb.models import bind_tables
from prelabel.adapters.dynamodb.organizations import DynamoLedger, DynamoOrganizationRepository
from prelabel.adapters.dynamodb.projects import DynamoDatasetRepository, DynamoProjectRepository
from prelabel.adapters.dynamodb.tasks import DynamoRunRepository, DynamoTaskRepository
from prelabel.adapters.dynamodb.workflow import DynamoClaimStore, DynamoRunStore
from prelabel.adapters.s3_images import S3ImageLinks, S3ImageLister
from prelabel.adapters.stepfunctions import StepFunctionsOrchestrator
from prelabel.ports.organizations import Ledger, OrganizationRepository
from prelabel.ports.projects import (
    DatasetRepository,
    ImageLinks,
    ImageLister,
    ProjectRepository,
)
from prelabel.ports.tasks import RunRepository, TaskRepository
from prelabel.services.datasets import DatasetService
from prelabel.services.locations import LocationService
from prelabel.services.runs import RunDeps
from prelabel.settings import Settings

if TYPE_CHECKING:
    from prelabel.adapters.s3_objects import S3ManifestStore
    from prelabel.services.labeling import LabelingDeps


def client_factory(service: str, region: str, **config: Any) -> Callable[[], Any]:
    """botocore, not boto3: boto3 and s3transfer add ~80 ms to every cold start for nothing here.

    Clients are made on first use, so a function pays only for the services it calls. `config`
    becomes the client's botocore Config (e.g. `signature_version="s3v4"`).
    """

    def make() -> Any:
        import botocore.session
        from botocore.config import Config

        return botocore.session.get_session().create_client(
            service, region_name=region, config=Config(**config) if config else None
        )

    return make


@dataclass
class Ports:
    settings: Settings
    orgs: OrganizationRepository
    ledger: Ledger
    projects: ProjectRepository
    datasets: DatasetRepository
    tasks: TaskRepository
    runs: RunRepository
    images: ImageLister

    @cached_property
    def connection(self) -> Connection:
        return Connection(region=self.settings.region, host=self.settings.dynamodb_endpoint)

    @cached_property
    def run_deps(self) -> RunDeps:
        s = self.settings
        return RunDeps(
            orgs=self.orgs,
            projects=self.projects,
            tasks=self.tasks,
            runs=self.runs,
            run_store=DynamoRunStore(self.connection),
            claims=self.claims,
            orchestrator=StepFunctionsOrchestrator(
                client_factory("stepfunctions", s.region), s.state_machine_arn
            ),
            batch_size=s.batch_size,
        )

    @cached_property
    def claims(self) -> DynamoClaimStore:
        return DynamoClaimStore(self.connection)

    @cached_property
    def manifests(self) -> S3ManifestStore:
        from prelabel.adapters.s3_objects import S3ManifestStore

        return S3ManifestStore(
            client_factory("s3", self.settings.region), self.settings.data_bucket
        )

    @cached_property
    def labeling_deps(self) -> LabelingDeps:
        # Only the worker needs these (and Pillow): the API's cold start does not import them.
        from prelabel.adapters.s3_objects import S3ImageSource
        from prelabel.adapters.sagemaker_detector import SageMakerDetector
        from prelabel.services.labeling import LabelingDeps

        s = self.settings
        return LabelingDeps(
            runs=self.runs,
            ledger=self.ledger,
            claims=self.claims,
            images=S3ImageSource(client_factory("s3", s.region)),
            detector=SageMakerDetector(
                client_factory("sagemaker-runtime", s.region), s.detector_endpoint
            ),
            input_size=s.detector_input_size,
        )

    @cached_property
    def dataset_service(self) -> DatasetService:
        return DatasetService(self.projects, self.datasets, self.tasks, self.images)

    @cached_property
    def locations(self) -> LocationService:
        s = self.settings
        return LocationService(self.orgs, s.data_bucket, s.grant_buckets)

    @cached_property
    def image_links(self) -> ImageLinks:
        return S3ImageLinks(client_factory("s3", self.settings.region, signature_version="s3v4"))


def dynamo_ports(settings: Settings) -> Ports:
    bind_tables(settings)
    return Ports(
        settings=settings,
        orgs=DynamoOrganizationRepository(),
        ledger=DynamoLedger(),
        projects=DynamoProjectRepository(),
        datasets=DynamoDatasetRepository(),
        tasks=DynamoTaskRepository(settings.cursor_mac_key),
        runs=DynamoRunRepository(),
        images=S3ImageLister(client_factory("s3", settings.region)),
    )
