"""In-memory implementations of the ports, for domain tests without storage."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence

from prelabel.domain.entities import (
    Dataset,
    LabelingState,
    Organization,
    Project,
    ProjectRef,
    Run,
    Task,
)
from prelabel.domain.errors import Conflict, NotFound
from prelabel.domain.label_config import LabelEntry
from prelabel.domain.locations import DataLocation
from prelabel.domain.mapping import LabelMapping
from prelabel.ports.organizations import Ledger, OrganizationRepository
from prelabel.ports.projects import DatasetRepository, ImageLister, ProjectRepository
from prelabel.ports.tasks import RunRepository, TaskFilter, TaskPage, TaskRepository


class MemoryOrgs(OrganizationRepository, Ledger):
    def __init__(self) -> None:
        self.items: dict[str, Organization] = {}
        self._lock = threading.Lock()

    def create(self, org: Organization) -> None:
        if org.org_id in self.items:
            raise Conflict("exists")
        self.items[org.org_id] = org

    def get(self, org_id: str) -> Organization:
        if org_id not in self.items:
            raise NotFound(f"organization {org_id!r} not found")
        return self.items[org_id]

    def iter_all(self) -> Iterator[Organization]:
        yield from list(self.items.values())

    def add_grant(self, org_id: str, grant: DataLocation) -> bool:
        with self._lock:
            org = self.get(org_id)
            if grant in org.grants:
                return False
            self.items[org_id] = dataclasses.replace(org, grants=(*org.grants, grant))
            return True

    def remove_grant(self, org_id: str, grant: DataLocation) -> bool:
        with self._lock:
            org = self.get(org_id)
            if grant not in org.grants:
                return False
            kept = tuple(g for g in org.grants if g != grant)
            self.items[org_id] = dataclasses.replace(org, grants=kept)
            return True

    def remaining(self, org_id: str) -> int:
        return self.get(org_id).remaining

    def charge(self, org_id: str, units: int) -> int:
        with self._lock:
            org = self.get(org_id)
            taken = min(units, org.remaining)
            self.items[org_id] = dataclasses.replace(org, remaining=org.remaining - taken)
            return taken

    def reset(self, org_id: str, period: str, amount: int) -> bool:
        org = self.get(org_id)
        if org.period >= period:
            return False
        self.items[org_id] = dataclasses.replace(
            org, remaining=amount, monthly_limit=amount, period=period
        )
        return True


class MemoryProjects(ProjectRepository):
    def __init__(self) -> None:
        self.items: dict[ProjectRef, Project] = {}

    def create(self, project: Project) -> None:
        self.items[project.ref] = project

    def get(self, ref: ProjectRef) -> Project:
        if ref not in self.items:
            raise NotFound(f"project {ref.project_id!r} not found")
        return self.items[ref]

    def list_projects(self, org_id: str) -> list[Project]:
        return [p for r, p in self.items.items() if r.org_id == org_id]

    def save_label_config(self, ref: ProjectRef, entries: tuple[LabelEntry, ...]) -> None:
        self.items[ref] = dataclasses.replace(self.get(ref), label_config=entries)

    def save_mapping(
        self, ref: ProjectRef, mapping: LabelMapping, default_threshold: float
    ) -> None:
        project = self.get(ref)
        if project.active_run_id:
            raise Conflict("run active")
        self.items[ref] = dataclasses.replace(
            project, mapping=mapping, default_threshold=default_threshold
        )


class MemoryDatasets(DatasetRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[ProjectRef, str], Dataset] = {}

    def add(self, dataset: Dataset) -> None:
        self.items[(dataset.project, dataset.dataset_id)] = dataset

    def get(self, ref: ProjectRef, dataset_id: str) -> Dataset:
        if (ref, dataset_id) not in self.items:
            raise NotFound(f"dataset {dataset_id!r} not found")
        return self.items[(ref, dataset_id)]

    def list_datasets(self, ref: ProjectRef) -> list[Dataset]:
        return [d for (r, _), d in self.items.items() if r == ref]

    def remove(self, ref: ProjectRef, dataset_id: str) -> None:
        self.items.pop((ref, dataset_id))


class MemoryTasks(TaskRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[ProjectRef, str], Task] = {}

    def add_many(self, tasks: Sequence[Task]) -> None:
        for t in tasks:
            self.items[(t.project, t.task_id)] = t

    def get(self, ref: ProjectRef, task_id: str) -> Task:
        if (ref, task_id) not in self.items:
            raise NotFound(f"task {task_id!r} not found")
        return self.items[(ref, task_id)]

    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage:
        tasks = [
            t
            for (r, _), t in sorted(self.items.items(), key=lambda kv: kv[0][1])
            if r == ref
            and (flt.state is None or t.state is flt.state)
            and (flt.prelabeled is None or t.prelabeled == flt.prelabeled)
            and (flt.dataset_id is None or t.dataset_id == flt.dataset_id)
        ]
        start = int(cursor or 0)
        end = start + limit
        return TaskPage(tasks[start:end], str(end) if end < len(tasks) else None)

    def delete_dataset_tasks(self, ref: ProjectRef, dataset_id: str) -> int:
        doomed = [k for k, t in self.items.items() if k[0] == ref and t.dataset_id == dataset_id]
        for k in doomed:
            del self.items[k]
        return len(doomed)

    def move(
        self, ref: ProjectRef, task_ids: Sequence[str], source: LabelingState, target: LabelingState
    ) -> list[str]:
        moved = []
        for tid in task_ids:
            task = self.items.get((ref, tid))
            if task is not None and task.state is source:
                self.items[(ref, tid)] = dataclasses.replace(task, state=target)
                moved.append(tid)
        return moved

    def ids_in_state(self, ref: ProjectRef, state: LabelingState) -> list[str]:
        return [t.task_id for (r, _), t in self.items.items() if r == ref and t.state is state]

    def count_eligible(self, ref: ProjectRef) -> int:
        return sum(
            1
            for (r, _), t in self.items.items()
            if r == ref and t.state is LabelingState.WAITING and t.prelabel_state is None
        )


class MemoryRuns(RunRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[ProjectRef, str], Run] = {}

    def get(self, ref: ProjectRef, run_id: str) -> Run:
        if (ref, run_id) not in self.items:
            raise NotFound(f"run {run_id!r} not found")
        return self.items[(ref, run_id)]

    def latest(self, ref: ProjectRef) -> Run | None:
        runs = sorted((k[1], r) for k, r in self.items.items() if k[0] == ref)
        return runs[-1][1] if runs else None


class MemoryImages(ImageLister):
    def __init__(self, objects: dict[tuple[str, str], list[str]] | None = None) -> None:
        self.objects = objects or {}
        self.listed: list[tuple[str, str]] = []

    def list_images(self, bucket: str, prefix: str, limit: int) -> list[str]:
        self.listed.append((bucket, prefix))
        return [k for k in self.objects.get((bucket, prefix), [])][: limit + 1]
