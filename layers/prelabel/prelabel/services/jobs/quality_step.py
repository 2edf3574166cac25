"""A quality job's steps: the project's reviewed tasks a slice at a time, then the report.

`tally`: the next 2,000 tasks with reviewed labels (their partitions read in task-id order),
their pre-labels read by key; each task with both becomes `TaskEvidence` (class = label entry,
model version and run from the pre-label) and is matched into a `QualityAccumulator`. The
running tally (every slice so far) is a working file per slice: slice k reads slice k-1's and
writes its own, so a retried step rewrites its own file from the same start and nothing is
counted twice, and the last step reads one file, not one per slice.

`write`: the report items (per scope and class, and a summary per scope) with each scope's
evidence floors: per class, the highest threshold any run of the scope applied to it (from
the runs' mapping snapshots), below which its pre-labels hold no box to judge a threshold by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prelabel.domain.entities import PrelabelState, ProjectRef
from prelabel.domain.errors import NotFound, StorageError
from prelabel.domain.jobs import Job, ProgressUnit, StepOutcome, encode_cursor
from prelabel.domain.mapping import MIN_THRESHOLD
from prelabel.domain.reviewed_labels import TaskReview
from prelabel.domain.reviewed_uploads import work_prefix
from prelabel.ports.jobs import Progress
from prelabel.ports.quality_reports import QualitySummary
from prelabel.ports.task_facts import PrelabelFacts
from prelabel.quality import (
    ALL,
    PredictedBox,
    QualityAccumulator,
    ReviewedBox,
    ScopeKind,
    TaskEvidence,
)
from prelabel.services.jobs.context import JobContext
from prelabel.services.jobs.reviewed_parts import cleared_on_failure, pack, part_key, unpack

Cursor = dict[str, Any]
# Runs whose mapping snapshots are read for the evidence floors; a project with more runs
# gets floors from the lowest score seen instead (prelabel.quality.calibration).
MAX_RUNS_READ = 500


def quality_step(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    with cleared_on_failure(ctx, job):
        if cursor.get("phase", "tally") == "tally":
            return _tally(ctx, job, cursor)
        return _write(ctx, job, cursor)


def evidence(review: TaskReview, prelabel: PrelabelFacts) -> TaskEvidence:
    """Crowd regions and difficult objects are left out of the reviewed boxes, as the
    evaluations that flag them leave them out of recall."""
    return TaskEvidence(
        predicted=[PredictedBox(lbl.entry_id, lbl.score, lbl.box) for lbl in prelabel.labels],
        reviewed=[
            ReviewedBox(b.entry_id, b.box) for b in review.boxes if not (b.crowd or b.difficult)
        ],
        model_version=prelabel.model_version,
        run_id=prelabel.run_id,
    )


def _previous(ctx: JobContext, job: Job, slice_no: int) -> dict[str, Any]:
    if slice_no == 0:
        return {"acc": None, "tasks": 0, "reviewed_only": 0, "runs": {}}
    data = ctx.review.files.get(part_key(job.project, job.job_id, "tally", slice_no - 1))
    if data is None:
        raise StorageError(f"the quality job's tally of slice {slice_no - 1} is missing")
    doc: dict[str, Any] = unpack(data)
    return doc


def _tally(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    ref, p = job.project, ctx.review
    slice_no = int(cursor.get("slice", 0))
    page = p.reviewed.page(ref, cursor.get("after"), p.limits.quality_tasks)
    facts = p.finder.facts(ref, [r.task_id for r in page.reviews])
    doc = _previous(ctx, job, slice_no)
    acc = QualityAccumulator(job.params.get("by_run") == "true")
    if doc["acc"] is not None:
        acc = QualityAccumulator.from_dict(doc["acc"])
    for review in page.reviews:
        found = facts.get(review.task_id)
        prelabel = found.prelabel if found is not None else None
        if prelabel is None or prelabel.state is not PrelabelState.DONE:
            doc["reviewed_only"] += 1
            continue
        acc.add_task(evidence(review, prelabel))
        doc["tasks"] += 1
        doc["runs"][prelabel.run_id] = prelabel.model_version
    doc["acc"] = acc.to_dict()
    ctx.review.files.put(part_key(ref, job.job_id, "tally", slice_no), pack(doc))
    done = int(cursor.get("done", 0)) + len(page.reviews)
    ctx.jobs.set_progress(ref, job.job_id, Progress(done, job.total, ProgressUnit.TASKS))
    phase = "tally" if page.last is not None else "write"
    values = {"phase": phase, "after": page.last, "slice": slice_no + 1, "done": done}
    return StepOutcome(False, encode_cursor(values))


def run_floors(
    ctx: JobContext, ref: ProjectRef, runs: Iterable[str]
) -> dict[str, dict[str, float]]:
    """Per run (that has a mapping snapshot), per entry: the highest threshold its rows for
    that entry applied (a box of the entry exists only above its class's threshold)."""
    floors: dict[str, dict[str, float]] = {}
    for run_id in list(runs)[:MAX_RUNS_READ]:
        try:
            snapshot = ctx.review.runs.snapshot(ref, run_id)
        except NotFound:
            continue
        entries: dict[str, float] = {}
        for row in snapshot.mapping.rows:
            t = max(snapshot.mapping.threshold_for(row, snapshot.default_threshold), MIN_THRESHOLD)
            entries[row.entry_id] = max(entries.get(row.entry_id, 0.0), t)
        floors[run_id] = entries
    return floors


def scope_floors(
    scope_runs: Mapping[str, list[str]], per_run: Mapping[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Per scope: per entry the highest floor of the scope's runs; no floors for a scope with
    a run whose mapping is unknown (its boxes may lie lower than any floor read)."""
    out: dict[str, dict[str, float]] = {}
    for scope_key, runs in scope_runs.items():
        if any(r not in per_run for r in runs):
            continue
        merged: dict[str, float] = {}
        for r in runs:
            for entry, floor in per_run[r].items():
                merged[entry] = max(merged.get(entry, 0.0), floor)
        out[scope_key] = merged
    return out


def _write(ctx: JobContext, job: Job, cursor: Cursor) -> StepOutcome:
    ref = job.project
    if not job.result:  # a retried last step may find the report written already
        _report(ctx, job, int(cursor["slice"]))
    ctx.review.files.delete_prefix(work_prefix(ref, job.job_id))
    return StepOutcome(True, encode_cursor(cursor))


def _report(ctx: JobContext, job: Job, slices: int) -> None:
    ref = job.project
    doc = _previous(ctx, job, slices)
    acc = QualityAccumulator(job.params.get("by_run") == "true")
    if doc["acc"] is not None:
        acc = QualityAccumulator.from_dict(doc["acc"])
    acc.scope(ALL)  # a report with no task still has its summary
    runs: dict[str, str] = doc["runs"]
    scope_runs: dict[str, list[str]] = {ALL.key: list(runs)}
    for scope in acc.scopes:
        if scope.kind is ScopeKind.MODEL:
            scope_runs[scope.key] = [r for r, m in runs.items() if m == scope.value]
        elif scope.kind is ScopeKind.RUN:
            scope_runs[scope.key] = [scope.value]
    floors = scope_floors(scope_runs, run_floors(ctx, ref, runs))
    prelabeled = int(job.params.get("prelabeled", "0"))
    summary = QualitySummary(
        job_id=job.job_id,
        computed_at=job.created_at,
        by_run=acc.by_run,
        tasks=int(doc["tasks"]),
        reviewed_only=int(doc["reviewed_only"]),
        prelabeled_only=max(0, prelabeled - int(doc["tasks"])),
        reviewed_changes=int(job.params.get("reviewed_changes", "0")),
        prelabeled=prelabeled,
        scopes=tuple(s.key for s in sorted(acc.scopes)),
    )
    ctx.review.reports.replace(ref, summary, {s.key: t for s, t in acc.scopes.items()}, floors)
    classes = len(acc.scope(ALL).classes)
    ctx.jobs.set_result(
        ref,
        job.job_id,
        {
            "tasks": summary.tasks,
            "reviewed_only": summary.reviewed_only,
            "prelabeled_only": summary.prelabeled_only,
            "scopes": len(summary.scopes),
            "classes": classes,
        },
    )
