"""Connecting, reading, disconnecting and reconnecting datasets: each change is a job."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from prelabel.api.routes.common import IdPath, caller_locations, project_ref
from prelabel.api.schemas import DatasetConnect, DatasetOut, JobOut
from prelabel.api.views import dataset_out, job_out
from prelabel.container import container
from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.errors import InvalidInput

router = Router()


def _source(body: DatasetConnect) -> DatasetSource:
    if body.manifest_key is None:
        if body.manifest_format is not None:
            raise InvalidInput(
                "manifest_format: give it with manifest_key", field="manifest_format"
            )
        return DatasetSource(body.bucket, prefix=body.prefix or "")
    if body.prefix is not None:
        raise InvalidInput(
            "prefix: give either a prefix or a manifest_key, not both", field="prefix"
        )
    if body.manifest_format is None:
        raise InvalidInput(
            "manifest_format: ground_truth or s3_inventory is needed with manifest_key",
            field="manifest_format",
        )
    return DatasetSource(
        body.bucket, manifest_key=body.manifest_key, manifest_format=body.manifest_format
    )


@router.get("/projects/<project_id>/datasets", summary="List connected datasets", tags=["Datasets"])
def list_datasets(project_id: IdPath) -> list[DatasetOut]:
    ref = project_ref(router, project_id)
    return [dataset_out(d) for d in container().dataset_service.list(ref)]


@router.post(
    "/projects/<project_id>/datasets",
    summary="Connect a dataset: an import job makes one BACKLOG task per image",
    description=(
        "Answers at once with the dataset in status IMPORTING and its import job; poll "
        "`GET .../datasets/{dataset_id}` until READY (or FAILED with a reason). The source is "
        "a prefix of the bucket, or a manifest object: a SageMaker Ground Truth input manifest "
        '(JSON Lines with `"source-ref": "s3://bucket/key"`) or an S3 Inventory CSV (`bucket,'
        "key[,size,...]`, keys URL-encoded; `.gz` is decompressed). The prefix or the "
        "manifest, and every key a manifest names, must lie inside the organization's data "
        "locations (`<org_id>/` in the data bucket, or a grant); a refused prefix or manifest "
        "is 403, the same answer whether or not it exists. Images: .jpg .jpeg .png .webp .bmp "
        ".tif .tiff .gif, up to 50 MiB, up to 1,000,000 per dataset; the rest is skipped and "
        "counted per reason in the dataset's report. The same request while its import runs "
        "answers with the same dataset."
    ),
    tags=["Datasets"],
    status_code=202,
)
def connect_dataset(project_id: IdPath, body: DatasetConnect) -> DatasetOut:
    dataset, job = container().dataset_service.connect(
        caller_locations(router), project_ref(router, project_id), _source(body)
    )
    return dataset_out(dataset, job)


@router.get(
    "/projects/<project_id>/datasets/<dataset_id>",
    summary="Read a dataset: status, task count, import report, its job's progress",
    tags=["Datasets"],
)
def get_dataset(project_id: IdPath, dataset_id: IdPath) -> DatasetOut:
    dataset, job = container().dataset_service.get(project_ref(router, project_id), dataset_id)
    return dataset_out(dataset, job)


@router.delete(
    "/projects/<project_id>/datasets/<dataset_id>",
    summary="Disconnect a dataset: a job removes its tasks, then the dataset",
    description=(
        "Refused (409) while a pre-labeling run is active. An import still running is stopped. "
        "The same request while the job runs answers with the same job."
    ),
    tags=["Datasets"],
    status_code=202,
)
def disconnect_dataset(project_id: IdPath, dataset_id: IdPath) -> JobOut:
    job = container().dataset_service.disconnect(project_ref(router, project_id), dataset_id)
    return job_out(job)


@router.post(
    "/projects/<project_id>/datasets/<dataset_id>/reconnect",
    summary="Reconnect a dataset: a job replaces its tasks with fresh ones",
    description=(
        "The old tasks (and their pre-labels) go, then the source is imported again with new "
        "task ids. Refused (409) while a pre-labeling run is active or another job works on "
        "the dataset; the same request while the job runs answers with the same job."
    ),
    tags=["Datasets"],
    status_code=202,
)
def reconnect_dataset(project_id: IdPath, dataset_id: IdPath) -> JobOut:
    job = container().dataset_service.reconnect(
        caller_locations(router), project_ref(router, project_id), dataset_id
    )
    return job_out(job)
