"""How a run ends and what it tells the user about it. Pure."""

from __future__ import annotations

from enum import StrEnum

from prelabel.domain.entities import Run, RunStatus

FINAL_EXECUTION_STATES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


class Ending(StrEnum):
    """How the run's execution ended."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"

    @classmethod
    def of_execution(cls, state: str) -> Ending:
        return {"ABORTED": cls.ABORTED, "SUCCEEDED": cls.SUCCEEDED}.get(state, cls.FAILED)


def final_status(run: Run, ending: Ending) -> RunStatus:
    if run.status is RunStatus.STOPPING or ending is Ending.ABORTED:
        return RunStatus.STOPPED
    if ending is Ending.FAILED:
        return RunStatus.FAILED
    return RunStatus.COMPLETED


def _images(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


def run_message(run: Run) -> str | None:
    c = run.counters
    if run.status is RunStatus.RUNNING:
        return None
    if run.status is RunStatus.STOPPING:
        return f"stopping: {c.labeled} pre-labeled so far; nothing more will be charged"
    if run.status is RunStatus.STOPPED:
        return f"stopped: {c.labeled} pre-labeled, {c.failed} failed, {c.left} left for later"
    if run.status is RunStatus.FAILED:
        why = run.failure or "the workflow failed"
        return f"{why}: {c.labeled} pre-labeled, {c.failed} failed, {c.left} left"
    if c.left:
        return (
            f"{c.labeled} pre-labeled, {c.failed} failed, {c.left} not processed (the detector "
            "kept failing for their batches); start again to retry them"
        )
    if c.skipped_quota:
        return (
            f"the AI-assistance limit ran out: {c.labeled} pre-labeled, "
            f"{c.skipped_quota} not pre-labeled"
        )
    return f"{_images(c.labeled)} pre-labeled, {c.failed} failed"
