"""Composition root: builds the services a function needs from its settings, once per cold start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, cast

from prelabel.adapters.dynamodb.models import bind_tables
from prelabel.adapters.dynamodb.organizations import DynamoLedger, DynamoOrganizationRepository
from prelabel.adapters.dynamodb.projects import DynamoDatasetRepository, DynamoProjectRepository
from prelabel.adapters.dynamodb.tasks import DynamoRunRepository, DynamoTaskRepository
from prelabel.adapters.s3_images import S3ImageLister
from prelabel.ports.organizations import Ledger, OrganizationRepository
from prelabel.ports.projects import DatasetRepository, ImageLister, ProjectRepository
from prelabel.ports.tasks import RunRepository, TaskRepository
from prelabel.services.datasets import DatasetService
from prelabel.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client_factory(region: str) -> Callable[[], S3Client]:
    """botocore, not boto3: boto3 and s3transfer add ~80 ms to every cold start for nothing here."""

    def make() -> S3Client:
        import botocore.session

        client = botocore.session.get_session().create_client("s3", region_name=region)
        return cast("S3Client", client)

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
    def dataset_service(self) -> DatasetService:
        return DatasetService(
            self.projects,
            self.datasets,
            self.tasks,
            self.images,
            self.settings.readable_dataset_buckets,
        )


def dynamo_ports(settings: Settings) -> Ports:
    bind_tables(settings)
    return Ports(
        settings=settings,
        orgs=DynamoOrganizationRepository(),
        ledger=DynamoLedger(),
        projects=DynamoProjectRepository(),
        datasets=DynamoDatasetRepository(),
        tasks=DynamoTaskRepository(),
        runs=DynamoRunRepository(),
        images=S3ImageLister(s3_client_factory(settings.region)),
    )
