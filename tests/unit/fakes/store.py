"""The repositories over one in-memory database, with DynamoDB's conditions kept.

`MemoryDb` holds every item; each repository class is a view of it implementing one port. The
batch commit takes the database's lock and checks every condition before it writes anything,
as TransactWriteItems does.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prelabel.adapters.dynamodb.keys import shard_index
from prelabel.domain.entities import (
    Dataset,
    LabelingState,
    Organization,
    PrelabelState,
    Project,
    ProjectCounts,
    ProjectRef,
    Run,
    RunCounters,
    RunSnapshot,
    RunStatus,
    Task,
)
from prelabel.domain.errors import Conflict, NotFound
from prelabel.domain.imports import ImportReport
from prelabel.domain.jobs import Job, JobStatus
from prelabel.domain.label_config import LabelEntry
from prelabel.domain.limits import Allowance
from prelabel.domain.locations import DataLocation
from prelabel.domain.mapping import LabelMapping
from prelabel.domain.plans import Plan
from prelabel.domain.reviewed_labels import TaskReview
from prelabel.domain.slices import SliceState
from prelabel.ports import labeling
from prelabel.ports.jobs import JobEnd, JobRepository, Progress
from prelabel.ports.organizations import Ledger, OrganizationRepository
from prelabel.ports.projects import Claim, DatasetRepository, ProjectRepository, Settlement
from prelabel.ports.runs import RunRepository
from prelabel.ports.tasks import (
    ELIGIBLE_RUN,
    IdRange,
    Move,
    PrelabelClasses,
    Removal,
    Sharding,
    TaskFilter,
    TaskOrder,
    TaskPage,
    TaskRepository,
    TaskSpan,
)
from prelabel.quality.priority import REST, ReviewPriority


@dataclass
class Prelabel:
    outcome: PrelabelState
    run_id: str
    labels: tuple = ()  # type: ignore[type-arg]
    width: int | None = None
    height: int | None = None
    reason: str | None = None
    # The model (name, version) that wrote it, as the adapter keeps it on the pre-label item.
    model: tuple[str, str] = ("", "")
    review: ReviewPriority = REST


@dataclass
class MemoryDb:
    orgs: dict[str, Organization] = field(default_factory=dict)
    projects: dict[ProjectRef, Project] = field(default_factory=dict)
    datasets: dict[tuple[ProjectRef, str], Dataset] = field(default_factory=dict)
    tasks: dict[tuple[ProjectRef, str], Task] = field(default_factory=dict)
    prelabels: dict[tuple[ProjectRef, str], Prelabel] = field(default_factory=dict)
    counts: dict[ProjectRef, Counter[str]] = field(default_factory=dict)
    runs: dict[tuple[ProjectRef, str], Run] = field(default_factory=dict)
    snapshots: dict[tuple[ProjectRef, str], RunSnapshot] = field(default_factory=dict)
    receipts: set[tuple[str, int]] = field(default_factory=set)
    crash_notes: dict[tuple[str, int], labeling.Suspect] = field(default_factory=dict)
    jobs: dict[tuple[ProjectRef, str], Job] = field(default_factory=dict)
    slices: dict[str, dict[int, ImportReport]] = field(default_factory=dict)
    # Sliced jobs: each phase's plan, each slice's record (by (phase, number)), and the phase
    # whose slices' progress a job's `done` adds up.
    plans: dict[str, dict[int, list[dict[str, object]]]] = field(default_factory=dict)
    parts: dict[str, dict[tuple[int, int], SliceState]] = field(default_factory=dict)
    phases: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Every commit attempt, in order: what the tests inspect.
    commits: list[labeling.BatchCommit] = field(default_factory=list)
    # How each project's tasks are stored (absent: sharded, as new projects are); the ids a
    # reshard job has still to move. The fake keeps no keys: only who may write, and when.
    sharding: dict[ProjectRef, Sharding] = field(default_factory=dict)
    unmoved: dict[ProjectRef, set[str]] = field(default_factory=dict)
    # Reviewed labels per task, and per project their counters (`tasks`, `changes`), changed
    # with them as the adapter's rvcounts items are: a deletion of tasks removes theirs.
    reviews: dict[tuple[ProjectRef, str], TaskReview] = field(default_factory=dict)
    review_counts: dict[ProjectRef, Counter[str]] = field(default_factory=dict)

    def counter(self, ref: ProjectRef) -> Counter[str]:
        return self.counts.setdefault(ref, Counter())

    def review_counter(self, ref: ProjectRef) -> Counter[str]:
        return self.review_counts.setdefault(ref, Counter())

    def refuse_while_resharding(self, ref: ProjectRef) -> None:
        moving = self.sharding.get(ref, Sharding(16)).moving_job
        if moving is not None:
            raise Conflict(f"the project's tasks are being moved to shards by job {moving}")


def _state_counter(state: LabelingState) -> str:
    return state.value.lower()


class MemoryOrgs(OrganizationRepository, Ledger):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def create(self, org: Organization) -> None:
        if org.org_id in self.db.orgs:
            raise Conflict(f"organization {org.org_id!r} exists")
        self.db.orgs[org.org_id] = org

    def get(self, org_id: str) -> Organization:
        if org_id not in self.db.orgs:
            raise NotFound(f"organization {org_id!r} not found")
        return self.db.orgs[org_id]

    def iter_all(self) -> Iterator[Organization]:
        yield from list(self.db.orgs.values())

    def change_terms(self, current: Organization, plan: Plan, allowance: Allowance) -> bool:
        with self.db.lock:
            org = self.get(current.org_id)
            terms = (org.plan, org.period, org.monthly_limit, org.remaining)
            if terms != (current.plan, current.period, current.monthly_limit, current.remaining):
                return False
            self.db.orgs[org.org_id] = dataclasses.replace(
                org,
                plan=plan,
                monthly_limit=allowance.monthly_limit,
                remaining=allowance.remaining,
            )
            return True

    def add_allowance(self, org_id: str, units: int, *, limit_was: int | None = None) -> bool:
        with self.db.lock:
            org = self.db.orgs.get(org_id)
            if org is None or org.remaining + units < 0:
                return False
            if limit_was is not None and org.monthly_limit != limit_was:
                return False
            self.db.orgs[org_id] = dataclasses.replace(
                org, remaining=org.remaining + units, monthly_limit=org.monthly_limit + units
            )
            return True

    def add_grant(self, org_id: str, grant: DataLocation) -> bool:
        with self.db.lock:
            org = self.get(org_id)
            if grant in org.grants:
                return False
            self.db.orgs[org_id] = dataclasses.replace(org, grants=(*org.grants, grant))
            return True

    def remove_grant(self, org_id: str, grant: DataLocation) -> bool:
        with self.db.lock:
            org = self.get(org_id)
            if grant not in org.grants:
                return False
            kept = tuple(g for g in org.grants if g != grant)
            self.db.orgs[org_id] = dataclasses.replace(org, grants=kept)
            return True

    def remaining(self, org_id: str) -> int:
        return self.get(org_id).remaining

    def set_remaining(self, org_id: str, remaining: int) -> None:
        self.db.orgs[org_id] = dataclasses.replace(self.get(org_id), remaining=remaining)

    def charge(self, org_id: str, units: int) -> int:
        with self.db.lock:
            org = self.get(org_id)
            taken = min(units, org.remaining)
            self.db.orgs[org_id] = dataclasses.replace(org, remaining=org.remaining - taken)
            return taken

    def reset(self, org_id: str, closing: str, period: str, amount: int) -> bool:
        with self.db.lock:
            org = self.get(org_id)
            if org.period != closing or closing >= period:
                return False
            usage = {**org.usage, closing: org.monthly_limit - org.remaining}
            self.db.orgs[org_id] = dataclasses.replace(
                org, remaining=amount, monthly_limit=amount, period=period, usage=usage
            )
            return True


class MemoryProjects(ProjectRepository):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def create(self, project: Project) -> None:
        self.db.projects[project.ref] = project

    def get(self, ref: ProjectRef) -> Project:
        if ref not in self.db.projects:
            raise NotFound(f"project {ref.project_id!r} not found")
        return self.db.projects[ref]

    def list_projects(self, org_id: str) -> list[Project]:
        return [p for r, p in self.db.projects.items() if r.org_id == org_id]

    def find_by_id(self, project_id: str) -> ProjectRef:
        for ref in self.db.projects:
            if ref.project_id == project_id:
                return ref
        raise NotFound(f"project {project_id!r} not found")

    def save_label_config(self, ref: ProjectRef, entries: tuple[LabelEntry, ...]) -> None:
        project = self.get(ref)
        if project.active_run_id:
            raise Conflict("the label configuration cannot change while a run is active")
        self.db.projects[ref] = dataclasses.replace(project, label_config=entries)

    def save_mapping(
        self, ref: ProjectRef, mapping: LabelMapping, default_threshold: float
    ) -> None:
        project = self.get(ref)
        if project.active_run_id:
            raise Conflict("the mapping cannot change while a pre-labeling run is active")
        self.db.projects[ref] = dataclasses.replace(
            project, mapping=mapping, default_threshold=default_threshold
        )


class MemoryDatasets(DatasetRepository):
    """Every change is conditioned on the job that owns the dataset, as the adapter's are."""

    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def create(self, dataset: Dataset) -> None:
        with self.db.lock:
            if (dataset.project, dataset.dataset_id) in self.db.datasets:
                raise Conflict(f"dataset {dataset.dataset_id!r} exists")
            self.db.datasets[(dataset.project, dataset.dataset_id)] = dataset

    def get(self, ref: ProjectRef, dataset_id: str) -> Dataset:
        if (ref, dataset_id) not in self.db.datasets:
            raise NotFound(f"dataset {dataset_id!r} not found")
        return self.db.datasets[(ref, dataset_id)]

    def list_datasets(self, ref: ProjectRef) -> list[Dataset]:
        return [d for (r, _), d in sorted(self.db.datasets.items()) if r == ref]

    def _owned(self, ref: ProjectRef, dataset_id: str, job_id: str | None) -> Dataset | None:
        found = self.db.datasets.get((ref, dataset_id))
        return found if found is not None and found.job_id == job_id else None

    def claim(self, ref: ProjectRef, dataset_id: str, claim: Claim) -> bool:
        with self.db.lock:
            found = self._owned(ref, dataset_id, claim.expected_job_id)
            if found is None:
                return False
            generation = found.generation if claim.generation is None else claim.generation
            self.db.datasets[(ref, dataset_id)] = dataclasses.replace(
                found,
                job_id=claim.job_id,
                status=claim.status,
                failure=None,
                report=None,
                generation=generation,
            )
            return True

    def settle(self, ref: ProjectRef, dataset_id: str, job_id: str, end: Settlement) -> bool:
        with self.db.lock:
            found = self._owned(ref, dataset_id, job_id)
            if found is None:
                return False
            self.db.datasets[(ref, dataset_id)] = dataclasses.replace(
                found, status=end.status, failure=end.failure, report=end.report or found.report
            )
            return True

    def remove(self, ref: ProjectRef, dataset_id: str, job_id: str) -> bool:
        with self.db.lock:
            if self._owned(ref, dataset_id, job_id) is None:
                return False
            del self.db.datasets[(ref, dataset_id)]
            return True

    def add_to_count(self, ref: ProjectRef, dataset_id: str, job_id: str, n: int) -> None:
        """The dataset's task_count, changed with the tasks (the adapter does it in their
        transaction, conditioned on the job)."""
        found = self._owned(ref, dataset_id, job_id)
        if found is None:
            raise Conflict(f"dataset {dataset_id} is no longer worked on by job {job_id}")
        self.db.datasets[(ref, dataset_id)] = dataclasses.replace(
            found, task_count=found.task_count + n
        )


class MemoryJobs(JobRepository):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def create(self, job: Job) -> None:
        with self.db.lock:
            if (job.project, job.job_id) in self.db.jobs:
                raise Conflict(f"job {job.job_id} exists")
            self.db.jobs[(job.project, job.job_id)] = job

    def get(self, ref: ProjectRef, job_id: str) -> Job:
        if (ref, job_id) not in self.db.jobs:
            raise NotFound(f"job {job_id!r} not found")
        return self._with_slices(self.db.jobs[(ref, job_id)])

    def _with_slices(self, job: Job) -> Job:
        """A sliced job's `done`: its own plus its current phase's slices'."""
        phase = self.db.phases.get(job.job_id)
        if phase is None:
            return job
        parts = self.db.parts.get(job.job_id, {})
        extra = sum(s.done for (p, _), s in parts.items() if p == phase)
        return dataclasses.replace(job, done=job.done + extra)

    def recent(self, ref: ProjectRef, limit: int) -> list[Job]:
        mine = [self._with_slices(j) for (r, _), j in self.db.jobs.items() if r == ref]
        return sorted(mine, key=lambda j: j.job_id, reverse=True)[:limit]

    def _replace(self, ref: ProjectRef, job_id: str, **changes: object) -> None:
        with self.db.lock:
            stored = self.db.jobs.get((ref, job_id))
            if stored is None:
                raise NotFound(f"job {job_id!r} not found")
            self.db.jobs[(ref, job_id)] = dataclasses.replace(stored, **changes)  # type: ignore[arg-type]

    def set_execution(self, ref: ProjectRef, job_id: str, execution_arn: str) -> None:
        self._replace(ref, job_id, execution_arn=execution_arn)

    def set_progress(self, ref: ProjectRef, job_id: str, progress: Progress) -> None:
        job = self.get(ref, job_id)
        unit = progress.unit or job.unit
        total = job.total if progress.total is None else progress.total
        self._replace(ref, job_id, done=progress.done, total=total, unit=unit)

    def set_result(self, ref: ProjectRef, job_id: str, result: Mapping[str, Any]) -> None:
        self._replace(ref, job_id, result=dict(result))

    def finish(self, ref: ProjectRef, job_id: str, end: JobEnd) -> bool:
        with self.db.lock:
            job = self.get(ref, job_id)
            if job.status is not JobStatus.RUNNING:
                return False
            self.db.phases.pop(job_id, None)  # the slices' progress folded into `done`
            self._replace(
                ref,
                job_id,
                done=job.done,
                status=end.status,
                error=end.error,
                finished_at=end.finished_at,
                result=job.result if end.result is None else dict(end.result),
            )
            return True

    def put_slice(self, job_id: str, slice_no: int, report: ImportReport) -> None:
        self.db.slices.setdefault(job_id, {})[slice_no] = report

    def slices(self, job_id: str) -> Iterator[ImportReport]:
        parts = self.db.slices.get(job_id, {})
        return iter([parts[n] for n in sorted(parts)])

    def add_done(
        self, ref: ProjectRef, job_id: str, n: int, slice: tuple[int, int] | None = None
    ) -> None:
        """A job's progress (or its slice's), added in the writes it counts (moves)."""
        with self.db.lock:
            if slice is not None:
                parts = self.db.parts.setdefault(job_id, {})
                was = parts.get(slice, SliceState({}))
                parts[slice] = dataclasses.replace(was, done=was.done + n)
                return
            job = self.db.jobs[(ref, job_id)]
            self._replace(ref, job_id, done=job.done + n)

    # --- sliced jobs ------------------------------------------------------------------------

    def save_plan(
        self, ref: ProjectRef, job_id: str, phase: int, specs: list[dict[str, object]]
    ) -> list[dict[str, object]]:
        with self.db.lock:
            stored = self.db.plans.setdefault(job_id, {}).setdefault(phase, list(specs))
            self.db.phases[job_id] = phase
            return list(stored)

    def plan(self, job_id: str, phase: int) -> list[dict[str, object]]:
        return list(self.db.plans.get(job_id, {}).get(phase, []))

    def slice_state(self, job_id: str, phase: int, number: int) -> SliceState | None:
        state = self.db.parts.get(job_id, {}).get((phase, number))
        return state if state is not None and state.step > 0 else None

    def slice_states(self, job_id: str, phase: int) -> dict[int, SliceState]:
        return {
            n: s for (p, n), s in self.db.parts.get(job_id, {}).items() if p == phase and s.step > 0
        }

    def advance_slice(
        self,
        ref: ProjectRef,
        job_id: str,
        number: tuple[int, int],
        state: SliceState,
        progress: int,
    ) -> bool:
        with self.db.lock:
            parts = self.db.parts.setdefault(job_id, {})
            was = parts.get(number, SliceState({}))
            if was.step != state.step - 1:
                return False  # that step was committed already
            parts[number] = dataclasses.replace(state, done=was.done + progress)
            return True


class MemoryTasks(TaskRepository):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def _joined(self, task: Task) -> Task:
        p = self.db.prelabels.get((task.project, task.task_id))
        if p is None:
            return task
        return dataclasses.replace(
            task,
            prelabel_state=p.outcome,
            prelabel_reason=p.reason,
            labels=p.labels,
            image_width=p.width,
            image_height=p.height,
            prelabel_run_id=p.run_id,
            review_priority=p.review.value if p.outcome is PrelabelState.DONE else None,
        )

    def _review_order(self, ref: ProjectRef) -> list[Task]:
        """What the review index and the pre-label partitions give: queued pre-labels by key
        (then task id), then the rest by task id."""
        done = [
            (p.review.key if p.review.queued else "~", task_id)
            for (r, task_id), p in self.db.prelabels.items()
            if r == ref and p.outcome is PrelabelState.DONE and (r, task_id) in self.db.tasks
        ]
        return [self._joined(self.db.tasks[(ref, task_id)]) for _, task_id in sorted(done)]

    def _eligible(self, ref: ProjectRef, task: Task) -> bool:
        return task.state is LabelingState.WAITING and (ref, task.task_id) not in self.db.prelabels

    def add_many(self, tasks: Sequence[Task]) -> None:
        with self.db.lock:
            self._add(tasks)

    def _add(self, tasks: Sequence[Task]) -> int:
        added = 0
        for t in tasks:
            self.db.refuse_while_resharding(t.project)
            if (t.project, t.task_id) in self.db.tasks:
                continue  # the same import again: already counted
            self.db.tasks[(t.project, t.task_id)] = t
            c = self.db.counter(t.project)
            c[_state_counter(t.state)] += 1
            c["eligible"] += self._eligible(t.project, t)
            added += 1
        return added

    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: Sequence[Task]
    ) -> int:
        with self.db.lock:
            datasets = MemoryDatasets(self.db)
            datasets.add_to_count(ref, dataset_id, job_id, 0)  # the job's condition, first
            added = self._add(tasks)
            datasets.add_to_count(ref, dataset_id, job_id, added)
            return added

    def get(self, ref: ProjectRef, task_id: str) -> Task:
        if (ref, task_id) not in self.db.tasks:
            raise NotFound(f"task {task_id!r} not found")
        return self._joined(self.db.tasks[(ref, task_id)])

    def list_tasks(
        self, ref: ProjectRef, flt: TaskFilter, limit: int, cursor: str | None
    ) -> TaskPage:
        everything = (
            self._review_order(ref)
            if flt.order is TaskOrder.REVIEW
            else [self._joined(t) for (r, _), t in sorted(self.db.tasks.items()) if r == ref]
        )
        tasks = [
            t
            for t in everything
            if (flt.state is None or t.state is flt.state)
            and (flt.prelabeled is None or t.prelabeled == flt.prelabeled)
            and (flt.dataset_id is None or t.dataset_id == flt.dataset_id)
        ]
        start = int(cursor or 0)
        end = start + limit
        return TaskPage(tasks[start:end], str(end) if end < len(tasks) else None)

    def get_many(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[Task]:
        return [
            self._joined(self.db.tasks[(ref, t)]) for t in task_ids if (ref, t) in self.db.tasks
        ]

    def prelabel_classes(self, ref: ProjectRef, after: str | None, limit: int) -> PrelabelClasses:
        done = sorted(
            (task_id, p)
            for (r, task_id), p in self.db.prelabels.items()
            if r == ref and p.outcome is PrelabelState.DONE and (after is None or task_id > after)
        )
        tasks = [(task_id, dict(Counter(lbl.entry_id for lbl in p.labels))) for task_id, p in done]
        more = len(tasks) > limit
        return PrelabelClasses(tasks[:limit], tasks[limit - 1][0] if more else None)

    def _in_part(self, ref: ProjectRef, task_id: str, part: int | None) -> bool:
        shards = self.sharding(ref).shards
        return part is None or shards is None or shard_index(task_id, shards) == part

    def delete_dataset_tasks(
        self,
        ref: ProjectRef,
        dataset_id: str,
        job_id: str,
        limit: int,
        part: int | None = None,
        slice: tuple[int, int] | None = None,
    ) -> Removal:
        with self.db.lock:
            project = self.db.projects.get(ref)
            if project is not None and project.active_run_id:
                raise Conflict("a pre-labeling run is active: its tasks stay until it ends")
            self.db.refuse_while_resharding(ref)
            MemoryDatasets(self.db).add_to_count(ref, dataset_id, job_id, 0)
            doomed = sorted(
                k
                for k, t in self.db.tasks.items()
                if k[0] == ref and t.dataset_id == dataset_id and self._in_part(ref, k[1], part)
            )
            c = self.db.counter(ref)
            for k in doomed[:limit]:
                task = self.db.tasks.pop(k)
                c[_state_counter(task.state)] -= 1
                p = self.db.prelabels.pop(k, None)
                if p is None:
                    c["eligible"] -= task.state is LabelingState.WAITING
                else:
                    c["prelabeled" if p.outcome is PrelabelState.DONE else "failed"] -= 1
                if self.db.reviews.pop(k, None) is not None:
                    self.db.review_counter(ref).update(tasks=-1, changes=1)
            removed = len(doomed[:limit])
            MemoryDatasets(self.db).add_to_count(ref, dataset_id, job_id, -removed)
            if slice is not None:
                MemoryJobs(self.db).add_done(ref, job_id, removed, slice)
            return Removal(removed, left=len(doomed) > limit)

    def move(self, ref: ProjectRef, task_ids: Sequence[str], move: Move) -> list[str]:
        source, target = move.source, move.target
        with self.db.lock:
            project = self.db.projects.get(ref)
            if source is LabelingState.WAITING and project and project.active_run_id:
                raise Conflict(f"tasks cannot leave {source.value} while a run is active")
            self.db.refuse_while_resharding(ref)
            moved = []
            c = self.db.counter(ref)
            for tid in dict.fromkeys(task_ids):
                task = self.db.tasks.get((ref, tid))
                if task is None or task.state is not source:
                    continue
                was = self._eligible(ref, task)
                self.db.tasks[(ref, tid)] = moved_task = dataclasses.replace(task, state=target)
                c[_state_counter(source)] -= 1
                c[_state_counter(target)] += 1
                c["eligible"] += int(self._eligible(ref, moved_task)) - int(was)
                moved.append(tid)
            if move.job_id is not None:
                MemoryJobs(self.db).add_done(ref, move.job_id, len(moved), move.slice)
            return moved

    def ids_in_state(
        self, ref: ProjectRef, state: LabelingState, span: IdRange | None = None
    ) -> Iterator[str]:
        after, limit = (span.after, span.limit) if span else (None, None)
        part = span.part if span else None
        ids = sorted(
            t.task_id
            for (r, _), t in self.db.tasks.items()
            if r == ref
            and t.state is state
            and (after is None or t.task_id > after)
            and self._in_part(ref, t.task_id, part)
        )
        return iter(ids[:limit] if limit is not None else ids)

    def tasks_in_span(self, ref: ProjectRef, span: TaskSpan, *, labels: bool) -> Iterator[Task]:
        with self.db.lock:
            ids = sorted(
                tid
                for (r, tid) in self.db.tasks
                if r == ref
                and (span.first is None or tid >= span.first)
                and (span.before is None or tid < span.before)
            )
            found = [self.db.tasks[(ref, tid)] for tid in ids]
        return iter([self._joined(t) if labels else t for t in found])

    def counts(self, ref: ProjectRef) -> ProjectCounts:
        c = self.db.counter(ref)
        return ProjectCounts(
            by_state={s: c[_state_counter(s)] for s in LabelingState},
            eligible=c["eligible"],
            prelabeled=c["prelabeled"],
            failed=c["failed"],
        )

    def eligible_ids(self, ref: ProjectRef, run: int = ELIGIBLE_RUN) -> Iterator[str]:
        # One partition: task-id order is every run's order.
        return iter(
            sorted(
                t.task_id
                for (r, _), t in self.db.tasks.items()
                if r == ref and self._eligible(ref, t)
            )
        )

    def sharding(self, ref: ProjectRef) -> Sharding:
        return self.db.sharding.get(ref, Sharding(16))

    def begin_resharding(self, ref: ProjectRef, job_id: str, taking_over: str | None) -> None:
        with self.db.lock:
            project = self.db.projects.get(ref)
            if project is None:
                raise NotFound(f"project {ref.project_id!r} not found")
            now = self.sharding(ref)
            if now.shards is not None:
                raise Conflict(f"the project's tasks are spread over {now.shards} shards already")
            if project.active_run_id:
                raise Conflict("a pre-labeling run is active")
            if now.moving_job not in (None, taking_over):
                raise Conflict(f"job {now.moving_job} is moving the project's tasks to shards")
            self.db.sharding[ref] = Sharding(None, job_id)
            if now.moving_job is None:
                self.db.unmoved[ref] = {t for (r, t) in self.db.tasks if r == ref}

    def reshard_slice(self, ref: ProjectRef, job_id: str, limit: int) -> Removal:
        with self.db.lock:
            if self.sharding(ref).moving_job != job_id:
                raise Conflict(f"job {job_id} no longer moves the project's tasks to shards")
            unmoved = self.db.unmoved[ref]
            batch = sorted(unmoved)[:limit]
            unmoved.difference_update(batch)
            MemoryJobs(self.db).add_done(ref, job_id, len(batch))
            return Removal(len(batch), left=bool(unmoved))

    def end_resharding(self, ref: ProjectRef, job_id: str) -> None:
        with self.db.lock:
            if self.sharding(ref).moving_job != job_id or self.db.unmoved.get(ref):
                raise Conflict(f"job {job_id} cannot end moving the project's tasks")
            self.db.sharding[ref] = Sharding(16)


class MemoryRuns(RunRepository):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def create(self, run: Run, snapshot: RunSnapshot) -> bool:
        with self.db.lock:
            self.db.refuse_while_resharding(run.project)
            project = self.db.projects.get(run.project)
            if (
                project is None
                or project.active_run_id
                or (run.project, run.run_id) in self.db.runs
            ):
                return False
            self.db.runs[(run.project, run.run_id)] = run
            self.db.snapshots[(run.project, run.run_id)] = snapshot
            self.db.projects[run.project] = dataclasses.replace(project, active_run_id=run.run_id)
            return True

    def get(self, ref: ProjectRef, run_id: str) -> Run:
        if (ref, run_id) not in self.db.runs:
            raise NotFound(f"run {run_id!r} not found")
        return self.db.runs[(ref, run_id)]

    def find(self, ref: ProjectRef, run_id: str) -> Run | None:
        return self.db.runs.get((ref, run_id))

    def recent(self, ref: ProjectRef, limit: int) -> list[Run]:
        runs = [r for (p, _), r in self.db.runs.items() if p == ref]
        return sorted(runs, key=lambda r: (r.started_at, r.run_id), reverse=True)[:limit]

    def latest(self, ref: ProjectRef) -> Run | None:
        newest = self.recent(ref, 1)
        return newest[0] if newest else None

    def snapshot(self, ref: ProjectRef, run_id: str) -> RunSnapshot:
        if (ref, run_id) not in self.db.snapshots:
            raise NotFound(f"run {run_id!r} has no mapping snapshot")
        return self.db.snapshots[(ref, run_id)]

    def _replace(self, ref: ProjectRef, run_id: str, **changes: object) -> None:
        self.db.runs[(ref, run_id)] = dataclasses.replace(self.get(ref, run_id), **changes)  # type: ignore[arg-type]

    def set_execution(self, ref: ProjectRef, run_id: str, execution_arn: str) -> None:
        self._replace(ref, run_id, execution_arn=execution_arn)

    def set_total(self, ref: ProjectRef, run_id: str, total: int) -> None:
        with self.db.lock:
            run = self.get(ref, run_id)
            self._replace(ref, run_id, counters=dataclasses.replace(run.counters, total=total))

    def request_stop(self, ref: ProjectRef, run_id: str) -> bool:
        with self.db.lock:
            if self.get(ref, run_id).status is not RunStatus.RUNNING:
                return False
            self._replace(ref, run_id, status=RunStatus.STOPPING)
            return True

    def finish(self, ref: ProjectRef, run_id: str, status: RunStatus, failure: str | None) -> bool:
        with self.db.lock:
            run = self.get(ref, run_id)
            if not run.status.is_active:
                return False
            self._replace(
                ref, run_id, status=status, finished_at="2026-11-29T12:00:00", failure=failure
            )
            project = self.db.projects[ref]
            if project.active_run_id == run_id:
                self.db.projects[ref] = dataclasses.replace(project, active_run_id=None)
            return True


class MemoryBatchStore(labeling.BatchStore):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()

    def batch_committed(self, run_id: str, batch_no: int) -> bool:
        return (run_id, batch_no) in self.db.receipts

    def batch_images(self, ref: ProjectRef, task_ids: Sequence[str]) -> list[labeling.TaskImage]:
        out = []
        for tid in task_ids:
            t = self.db.tasks.get((ref, tid))
            if t and t.state is LabelingState.WAITING and (ref, tid) not in self.db.prelabels:
                out.append(labeling.TaskImage(tid, t.bucket, t.image_key))
        return out

    def commit(self, batch: labeling.BatchCommit) -> labeling.CommitResult:
        item = batch.item
        ref = item.ref
        with self.db.lock:
            self.db.commits.append(dataclasses.replace(batch, done=list(batch.done)))
            if (item.run_id, item.batch_no) in self.db.receipts:
                return labeling.CommitResult(committed=False, already_committed=True)
            run = self.db.runs.get((ref, item.run_id))
            if run is None or run.status is not RunStatus.RUNNING:
                return labeling.CommitResult(committed=False, run_closed=True)
            k = len(batch.done)
            org = self.db.orgs[item.org_id]
            if k and org.remaining < k:
                return labeling.CommitResult(committed=False, quota_left=org.remaining)
            taken = tuple(
                t
                for t in [d.task_id for d in batch.done] + [f.task_id for f in batch.failed]
                if (ref, t) in self.db.prelabels
            )
            if taken:
                return labeling.CommitResult(committed=False, taken_task_ids=taken)
            # Every condition holds: write it all.
            self.db.receipts.add((item.run_id, item.batch_no))
            for d in batch.done:
                self.db.prelabels[(ref, d.task_id)] = Prelabel(
                    PrelabelState.DONE,
                    item.run_id,
                    d.labels,
                    d.width,
                    d.height,
                    model=batch.model,
                    review=d.review,
                )
            for f in batch.failed:
                self.db.prelabels[(ref, f.task_id)] = Prelabel(
                    PrelabelState.FAILED, item.run_id, reason=f.reason
                )
            c = run.counters
            self.db.runs[(ref, item.run_id)] = dataclasses.replace(
                run,
                counters=RunCounters(
                    total=c.total - batch.withdrawn,
                    labeled=c.labeled + k,
                    failed=c.failed + len(batch.failed),
                    skipped_quota=c.skipped_quota + batch.skipped_quota,
                ),
                quota_exhausted=run.quota_exhausted or batch.skipped_quota > 0,
            )
            self.db.orgs[item.org_id] = dataclasses.replace(org, remaining=org.remaining - k)
            counts = self.db.counter(ref)
            counts["prelabeled"] += k
            counts["failed"] += len(batch.failed)
            counts["eligible"] -= k + len(batch.failed)
            return labeling.CommitResult(committed=True)


class MemoryCrashLog(labeling.CrashLog):
    def __init__(self, db: MemoryDb | None = None) -> None:
        self.db = db or MemoryDb()
        self.notes_written = 0

    def suspect(self, run_id: str, batch_no: int) -> labeling.Suspect | None:
        return self.db.crash_notes.get((run_id, batch_no))

    def note(self, run_id: str, batch_no: int, suspect: labeling.Suspect) -> None:
        self.notes_written += 1
        self.db.crash_notes[(run_id, batch_no)] = suspect

    def clear(self, run_id: str, batch_no: int) -> None:
        self.db.crash_notes.pop((run_id, batch_no), None)
