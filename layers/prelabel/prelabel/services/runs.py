"""Starting, stopping, finishing and reading pre-labeling runs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from prelabel.domain.entities import Project, ProjectRef, Run, RunCounters, RunSnapshot, RunStatus
from prelabel.domain.errors import Conflict, NotAllowed, StorageError
from prelabel.domain.ids import new_id, now_iso
from prelabel.domain.start_rules import start_blockers
from prelabel.ports.organizations import OrganizationRepository
from prelabel.ports.projects import ProjectRepository
from prelabel.ports.tasks import RunRepository, TaskRepository
from prelabel.ports.workflow import ClaimStore, Orchestrator, RunStore

FINAL_EXECUTION_STATES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass(frozen=True, slots=True)
class StartOutcome:
    run: Run | None
    started: bool
    already_active: bool = False
    confirmation_required: bool = False
    eligible: int = 0
    will_label: int = 0
    message: str = ""


@dataclass
class RunDeps:
    orgs: OrganizationRepository
    projects: ProjectRepository
    tasks: TaskRepository
    runs: RunRepository
    run_store: RunStore
    claims: ClaimStore
    orchestrator: Orchestrator
    batch_size: int


def snapshot_of(project: Project, batch_size: int) -> RunSnapshot:
    return RunSnapshot(
        mapping=project.mapping,
        default_threshold=project.default_threshold,
        entry_names={e.id: e.name for e in project.label_config},
        batch_size=batch_size,
    )


def start_run(
    deps: RunDeps,
    ref: ProjectRef,
    *,
    confirm: bool,
    run_id: str | None = None,
    execution_arn: str | None = None,
) -> StartOutcome:
    """Create the run and launch its execution (or, from the console, adopt the running one)."""
    project = deps.projects.get(ref)
    if project.active_run_id:
        active = deps.runs.get(ref, project.active_run_id)
        return StartOutcome(active, started=False, already_active=True, message="already active")
    org = deps.orgs.get(ref.org_id)
    blockers = start_blockers(org, project, None)
    if blockers:
        raise NotAllowed("pre-labeling cannot start: " + "; ".join(blockers))
    eligible = deps.tasks.count_eligible(ref)
    if eligible == 0:
        raise Conflict("no WAITING task is left without pre-labels; move tasks to WAITING first")
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
        snapshot=snapshot_of(project, deps.batch_size),
        execution_arn=execution_arn,
    )
    if not deps.run_store.create(run):
        return start_run(deps, ref, confirm=confirm)  # someone else started first: report theirs
    if execution_arn is None:
        try:
            arn = deps.orchestrator.start(
                run.run_id, {"orgId": ref.org_id, "projectId": ref.project_id, "runId": run.run_id}
            )
        except StorageError:
            deps.run_store.finish(ref, run.run_id, RunStatus.FAILED, "the workflow did not start")
            raise
        deps.run_store.set_execution(ref, run.run_id, arn)
    message = f"pre-labeling {will_label} of {eligible} images"
    return StartOutcome(
        deps.runs.get(ref, run.run_id),
        True,
        eligible=eligible,
        will_label=will_label,
        message=message,
    )


class Ending(StrEnum):
    """How the run's execution ended."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"

    @classmethod
    def of_execution(cls, state: str) -> Ending:
        return {"ABORTED": cls.ABORTED, "SUCCEEDED": cls.SUCCEEDED}.get(state, cls.FAILED)


def final_status(run: Run, ending: Ending) -> tuple[RunStatus, str | None]:
    c = run.counters
    if run.status is RunStatus.STOPPING or ending is Ending.ABORTED:
        return RunStatus.STOPPED, f"stopped: {c.labeled} pre-labeled, {c.left} left for later"
    if ending is Ending.FAILED:
        return RunStatus.FAILED, f"the workflow failed: {c.labeled} pre-labeled, {c.left} left"
    if c.left:
        return (
            RunStatus.COMPLETED,
            f"{c.labeled} pre-labeled, {c.failed} failed, {c.left} not processed (the detector "
            "kept failing for their batches); start again to retry them",
        )
    if c.skipped_quota:
        return (
            RunStatus.COMPLETED,
            f"the AI-assistance limit ran out: {c.labeled} pre-labeled, "
            f"{c.skipped_quota} not pre-labeled",
        )
    return RunStatus.COMPLETED, f"{c.labeled} images pre-labeled, {c.failed} failed"


def finish_run(
    deps: RunDeps, ref: ProjectRef, run_id: str, ending: Ending = Ending.SUCCEEDED
) -> Run | None:
    """Release the run's claims and give it its final status. Safe to call any number of times."""
    run = deps.run_store.find(ref, run_id)
    if run is None or not run.status.is_active:
        return run
    deps.claims.release_all(ref, run_id)
    status, message = final_status(deps.runs.get(ref, run_id), ending)
    deps.run_store.finish(ref, run_id, status, message)
    return deps.runs.get(ref, run_id)


def stop_run(deps: RunDeps, ref: ProjectRef) -> Run:
    project = deps.projects.get(ref)
    if not project.active_run_id:
        latest = deps.runs.latest(ref)
        if latest is None:
            raise Conflict("no pre-labeling run to stop")
        return latest
    run_id = project.active_run_id
    deps.run_store.request_stop(ref, run_id)
    run = deps.runs.get(ref, run_id)
    if run.execution_arn:
        deps.orchestrator.stop(run.execution_arn, "stopped by the user")
    return finish_run(deps, ref, run_id) or run


def current_run(deps: RunDeps, ref: ProjectRef) -> Run | None:
    """The active or last run; an active run whose execution has ended is finished here.

    Stops from the console reach us through an EventBridge rule in AWS; reading progress also
    reconciles, so a run is never shown RUNNING after its execution is gone.
    """
    project = deps.projects.get(ref)
    if not project.active_run_id:
        return deps.runs.latest(ref)
    run = deps.runs.get(ref, project.active_run_id)
    if run.execution_arn:
        state = deps.orchestrator.status(run.execution_arn)
        if state in FINAL_EXECUTION_STATES:
            return finish_run(deps, ref, run.run_id, Ending.of_execution(state))
    return run
