"""Composition root: builds the services a function needs from its settings, once per cold start."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import boto3

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
        images=S3ImageLister(boto3.client("s3", region_name=settings.region)),
    )
