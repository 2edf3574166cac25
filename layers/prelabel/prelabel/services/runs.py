"""Pre-labeling runs: start, prepare the batches, stop, finish, and read progress."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from prelabel.domain.entities import Project, ProjectRef, Run, RunCounters, RunSnapshot, RunStatus
from prelabel.domain.errors import Conflict, NotAllowed, StorageError
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.run_rules import FINAL_EXECUTION_STATES, Ending, final_status
from prelabel.domain.start_rules import start_blockers
from prelabel.ports.labeling import BatchItem
from prelabel.ports.orchestration import ManifestStore, Orchestrator
from prelabel.ports.organizations import OrganizationRepository
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.runs import RunRepository
from prelabel.ports.tasks import TaskRepository


@dataclass(frozen=True, slots=True)
class StartOutcome:
    run: Run | None
    started: bool
    already_active: bool = False
    confirmation_required: bool = False
    eligible: int = 0
    will_label: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class Prepared:
    run_id: str
    org_id: str
    project_id: str
    manifest_bucket: str
    manifest_prefix: str
    total: int
    batches: int


def snapshot_of(project: Project, batch_size: int) -> RunSnapshot:
    return RunSnapshot(
        mapping=project.mapping,
        default_threshold=project.default_threshold,
        entry_names={e.id: e.name for e in project.label_config},
        batch_size=batch_size,
        model=project.model,
    )


@dataclass(frozen=True, kw_only=True)
class RunService:
    orgs: OrganizationRepository
    projects: ProjectRepository
    tasks: TaskRepository
    runs: RunRepository
    orchestrator: Orchestrator
    manifests: ManifestStore
    batch_size: int

    def start(
        self,
        ref: ProjectRef,
        *,
        confirm: bool,
        run_id: str | None = None,
        execution_arn: str | None = None,
    ) -> StartOutcome:
        """Create the run and launch its execution (or, from the console, adopt the running one)."""
        project = self.projects.get(ref)
        if project.active_run_id:
            active = self.runs.get(ref, project.active_run_id)
            return StartOutcome(
                active, started=False, already_active=True, message="already active"
            )
        org = self.orgs.get(ref.org_id)
        blockers = start_blockers(org, project, None)
        if blockers:
            raise NotAllowed("pre-labeling cannot start: " + "; ".join(blockers))
        eligible = self.tasks.counts(ref).eligible
        if eligible <= 0:
            raise Conflict(
                "no WAITING task is left without pre-labels; move tasks to WAITING first"
            )
        will_label = min(eligible, org.remaining)
        if will_label < eligible and not confirm:
            return StartOutcome(
                None,
                started=False,
                confirmation_required=True,
                eligible=eligible,
                will_label=will_label,
                message=f"only {will_label} of {eligible} images will be pre-labeled "
                f"(AI-assistance limit: {org.remaining} left); confirm to go ahead",
            )
        run = Run(
            project=ref,
            run_id=run_id or new_id("run"),
            status=RunStatus.RUNNING,
            counters=RunCounters(total=eligible),
            started_at=now_iso(),
            execution_arn=execution_arn,
        )
        if not self.runs.create(run, snapshot_of(project, self.batch_size)):
            # Someone else started first: report theirs.
            return self.start(ref, confirm=confirm)
        if execution_arn is None:
            self._launch(run)
        return StartOutcome(
            self.runs.get(ref, run.run_id),
            True,
            eligible=eligible,
            will_label=will_label,
            message=f"pre-labeling {will_label} of {eligible} images",
        )

    def _launch(self, run: Run) -> None:
        """Start the run's execution; a run whose workflow did not start ends FAILED."""
        ref = run.project
        try:
            arn = self.orchestrator.start(
                run.run_id,
                {"orgId": ref.org_id, "projectId": ref.project_id, "runId": run.run_id},
            )
        except StorageError:
            self.runs.finish(ref, run.run_id, RunStatus.FAILED, "the workflow did not start")
            raise
        self.runs.set_execution(ref, run.run_id, arn)

    def prepare(
        self, *, project_id: str, org_id: str | None, execution_name: str, execution_arn: str
    ) -> Prepared:
        """The state machine's first step: the execution's name is the run id, whether the API
        or the console started it."""
        ref = ProjectRef(org_id, project_id) if org_id else self.projects.find_by_id(project_id)
        if self.runs.find(ref, execution_name) is None:
            # Started from the console with {"projectId": ...}: the console user chose to go.
            outcome = self.start(
                ref, confirm=True, run_id=execution_name, execution_arn=execution_arn
            )
            if not outcome.started:
                raise Conflict(f"project {project_id} already has an active run: {outcome.message}")
        counted = _Counted(self.tasks.eligible_ids(ref, self.batch_size))
        bucket, prefix, batches = self.manifests.write(
            execution_name, self._batches(ref, execution_name, counted)
        )
        self.runs.set_total(ref, execution_name, counted.n)
        return Prepared(
            execution_name, ref.org_id, ref.project_id, bucket, prefix, counted.n, batches
        )

    def _batches(self, ref: ProjectRef, run_id: str, ids: Iterator[str]) -> Iterator[BatchItem]:
        n = 0
        while chunk := tuple(islice(ids, self.batch_size)):
            yield BatchItem(ref.org_id, ref.project_id, run_id, n, chunk)
            n += 1

    def finish(self, ref: ProjectRef, run_id: str, ending: Ending = Ending.SUCCEEDED) -> Run | None:
        """Give the run its final status. Safe to call any number of times."""
        run = self.runs.find(ref, run_id)
        if run is None or not run.status.is_active:
            return run
        failure = "the workflow failed" if ending is Ending.FAILED else None
        self.runs.finish(ref, run_id, final_status(run, ending), failure)
        return self.runs.get(ref, run_id)

    def stop(self, ref: ProjectRef) -> Run:
        """Final when it answers: the STOPPING write closes the run to commits, so the figures
        returned are the run's last."""
        project = self.projects.get(ref)
        if not project.active_run_id:
            latest = self.runs.latest(ref)
            if latest is None:
                raise Conflict("no pre-labeling run to stop")
            return latest
        run_id = project.active_run_id
        self.runs.request_stop(ref, run_id)
        run = self.runs.get(ref, run_id)
        if run.execution_arn:
            self.orchestrator.stop(run.execution_arn, "stopped by the user")
        return self.finish(ref, run_id, Ending.ABORTED) or run

    def current(self, ref: ProjectRef) -> Run | None:
        """The active or last run; an active run whose execution has ended is finished here.

        Stops from the console reach us through an EventBridge rule in AWS; reading progress
        also reconciles, so a run is never shown RUNNING after its execution is gone.
        """
        project = self.projects.get(ref)
        if not project.active_run_id:
            return self.runs.latest(ref)
        run = self.runs.get(ref, project.active_run_id)
        if run.execution_arn:
            state = self.orchestrator.status(run.execution_arn)
            if state in FINAL_EXECUTION_STATES:
                return self.finish(ref, run.run_id, Ending.of_execution(state))
        return run

    def history(self, ref: ProjectRef, limit: int = 20) -> list[Run]:
        self.projects.get(ref)
        return self.runs.recent(ref, limit)


class _Counted(Iterator[str]):
    """Counts the ids as the manifest writer consumes them, so they are read once."""

    def __init__(self, ids: Iterator[str]) -> None:
        self._ids = ids
        self.n = 0

    def __next__(self) -> str:
        value = next(self._ids)
        self.n += 1
        return value
