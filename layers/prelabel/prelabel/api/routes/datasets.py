"""Connecting, disconnecting and reconnecting datasets."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.routes.common import IdPath, caller_locations, project_ref
from prelabel.api.schemas import DatasetConnect, DatasetOut, DisconnectedOut
from prelabel.api.views import dataset_out
from prelabel.container import container

router = Router()


@router.get("/projects/<project_id>/datasets", summary="List connected datasets", tags=["Datasets"])
def list_datasets(project_id: IdPath) -> list[DatasetOut]:
    ref = project_ref(router, project_id)
    container().projects.get(ref)
    return [dataset_out(d) for d in container().datasets.list_datasets(ref)]


@router.post(
    "/projects/<project_id>/datasets",
    summary="Connect a dataset (one BACKLOG task per image)",
    description=(
        "The bucket and prefix must lie inside the organization's data locations: "
        "`<org_id>/` in the data bucket, or a grant. Otherwise 403, the same answer whether "
        "or not the location exists."
    ),
    tags=["Datasets"],
    status_code=201,
)
def connect_dataset(project_id: IdPath, body: DatasetConnect) -> DatasetOut:
    dataset = container().dataset_service.connect(
        caller_locations(router), project_ref(router, project_id), body.bucket, body.prefix
    )
    return dataset_out(dataset)


@router.delete(
    "/projects/<project_id>/datasets/<dataset_id>",
    summary="Disconnect a dataset (removes its tasks)",
    tags=["Datasets"],
)
def disconnect_dataset(project_id: IdPath, dataset_id: IdPath) -> DisconnectedOut:
    removed = container().dataset_service.disconnect(project_ref(router, project_id), dataset_id)
    return DisconnectedOut(dataset_id=dataset_id, tasks_removed=removed)


@router.post(
    "/projects/<project_id>/datasets/<dataset_id>/reconnect",
    summary="Reconnect a dataset (fresh tasks)",
    tags=["Datasets"],
)
def reconnect_dataset(project_id: IdPath, dataset_id: IdPath) -> DatasetOut:
    return dataset_out(
        container().dataset_service.reconnect(
            caller_locations(router), project_ref(router, project_id), dataset_id
        )
    )
