"""Connecting, disconnecting and reconnecting datasets."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.routes.common import project_ref
from prelabel.api.schemas import DatasetConnect, DatasetOut, DisconnectedOut
from prelabel.api.views import dataset_out
from prelabel.container import container

router = Router()


@router.get("/projects/<project_id>/datasets")
def list_datasets(project_id: str) -> list[DatasetOut]:
    ref = project_ref(router, project_id)
    container().projects.get(ref)
    return [dataset_out(d) for d in container().datasets.list_datasets(ref)]


@router.post("/projects/<project_id>/datasets")
def connect_dataset(project_id: str, body: DatasetConnect) -> tuple[DatasetOut, int]:
    dataset = container().dataset_service.connect(
        project_ref(router, project_id), body.bucket, body.prefix
    )
    return dataset_out(dataset), 201


@router.delete("/projects/<project_id>/datasets/<dataset_id>")
def disconnect_dataset(project_id: str, dataset_id: str) -> DisconnectedOut:
    removed = container().dataset_service.disconnect(project_ref(router, project_id), dataset_id)
    return DisconnectedOut(dataset_id=dataset_id, tasks_removed=removed)


@router.post("/projects/<project_id>/datasets/<dataset_id>/reconnect")
def reconnect_dataset(project_id: str, dataset_id: str) -> DatasetOut:
    return dataset_out(
        container().dataset_service.reconnect(project_ref(router, project_id), dataset_id)
    )
