"""Connecting datasets (S3 bucket + prefix) to projects: one BACKLOG task per image."""

from __future__ import annotations

from prelabel.domain.entities import Dataset, LabelingState, ProjectRef, Task
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.locations import OrgLocations, is_readable, require_prefix
from prelabel.ports.projects import DatasetRepository, ImageLister, ProjectRepository
from prelabel.ports.tasks import TaskRepository

MAX_IMAGES_PER_DATASET = 10_000


class DatasetService:
    def __init__(
        self,
        projects: ProjectRepository,
        datasets: DatasetRepository,
        tasks: TaskRepository,
        images: ImageLister,
    ) -> None:
        self._projects = projects
        self._datasets = datasets
        self._tasks = tasks
        self._images = images

    def connect(
        self, locations: OrgLocations, ref: ProjectRef, bucket: str, prefix: str
    ) -> Dataset:
        """`locations` are the caller's organization's: the prefix must lie inside one of them.

        Checked before S3 is listed, so a refused prefix answers the same whether it exists.
        """
        self._projects.get(ref)
        require_prefix(_own(locations, ref), bucket, prefix)
        for existing in self._datasets.list_datasets(ref):
            if (existing.bucket, existing.prefix) == (bucket, prefix):
                raise Conflict(
                    f"s3://{bucket}/{prefix} is already connected as dataset {existing.dataset_id}"
                )
        dataset_id = new_id("ds")
        count = self._create_tasks(locations, ref, dataset_id, bucket, prefix)
        dataset = Dataset(ref, dataset_id, bucket, prefix, count, now_iso())
        self._datasets.add(dataset)
        return dataset

    def disconnect(self, ref: ProjectRef, dataset_id: str) -> int:
        self._refuse_during_run(ref)
        self._datasets.get(ref, dataset_id)
        removed = self._tasks.delete_dataset_tasks(ref, dataset_id)
        self._datasets.remove(ref, dataset_id)
        return removed

    def reconnect(self, locations: OrgLocations, ref: ProjectRef, dataset_id: str) -> Dataset:
        """Drop the dataset's tasks and create fresh ones (pre-labeling may run on them again).

        A dataset whose grant was revoked is refused before anything is deleted.
        """
        self._refuse_during_run(ref)
        old = self._datasets.get(ref, dataset_id)
        require_prefix(_own(locations, ref), old.bucket, old.prefix)
        self._tasks.delete_dataset_tasks(ref, dataset_id)
        count = self._create_tasks(locations, ref, dataset_id, old.bucket, old.prefix)
        dataset = Dataset(ref, dataset_id, old.bucket, old.prefix, count, now_iso())
        self._datasets.add(dataset)
        return dataset

    def _refuse_during_run(self, ref: ProjectRef) -> None:
        if self._projects.get(ref).active_run_id:
            raise Conflict("datasets cannot be disconnected while a pre-labeling run is active")

    def _create_tasks(
        self, locations: OrgLocations, ref: ProjectRef, dataset_id: str, bucket: str, prefix: str
    ) -> int:
        listed = self._images.list_images(bucket, prefix, MAX_IMAGES_PER_DATASET)
        # Keys S3 lists under a permitted prefix can still be spelled to mean somewhere else
        # to a later reader (`org-a/../org-b/x.jpg` is a real key under `org-a/`): skip them.
        keys = [k for k in listed if is_readable(locations, bucket, k)]
        if not keys:
            raise InvalidInput(
                f"prefix: s3://{bucket}/{prefix} holds no images (.jpg, .jpeg, .png, .webp, "
                ".bmp, .tif)",
                field="prefix",
            )
        if len(keys) > MAX_IMAGES_PER_DATASET:
            raise InvalidInput(
                f"prefix: s3://{bucket}/{prefix} holds more than {MAX_IMAGES_PER_DATASET} images; "
                "connect a narrower prefix",
                field="prefix",
            )
        created = now_iso()
        self._tasks.add_many(
            [
                Task(
                    ref,
                    new_id("t"),
                    dataset_id,
                    bucket,
                    key,
                    LabelingState.BACKLOG,
                    created_at=created,
                )
                for key in keys
            ]
        )
        return len(keys)


def _own(locations: OrgLocations, ref: ProjectRef) -> OrgLocations:
    if locations.org_id != ref.org_id:
        raise ValueError("the locations of another organization were passed for this project")
    return locations
