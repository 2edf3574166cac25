"""The quality report over the fakes: computed by a job in slices from the tasks with both a
pre-label and reviewed labels, read per scope with calibrated thresholds and the mapping they
suggest, stale once reviewed labels or pre-labels change."""

from __future__ import annotations

import pytest

from prelabel.domain.errors import InvalidInput
from prelabel.domain.jobs import JobStatus
from prelabel.quality import ALL, QualityAccumulator, scope_report
from prelabel.services.jobs.quality_step import evidence
from prelabel.services.quality import NOT_COMPUTED
from tests.unit.reviewed_jobs.conftest import (
    CAR_BOX,
    HIGH,
    PERSON_BOX,
    ReviewWorld,
    coco,
    with_limits,
)


def _reviewed_world(rw: ReviewWorld, high: int = 12, low: int = 4) -> None:
    """`high` images whose 0.9 car is right, `low` whose 0.35 car is wrong (reviewers deleted
    it); the person (0.8) is right on even images only; one more image reviewed, never
    pre-labeled."""
    rw.make_project(high=high, low=low + 1)
    rw.prelabel([s.key for s in rw.shots[:-1]])
    images = []
    for i, shot in enumerate(rw.shots):
        boxes = [("Vehicle", CAR_BOX)] if shot.car_score == HIGH else []
        if i % 2 == 0:
            boxes.append(("Person", PERSON_BOX))
        images.append((shot.key, 128, shot.height, boxes))
    job = rw.import_file("review.json", coco(images))
    assert job.status is JobStatus.SUCCEEDED and job.result["images_matched"] == high + low + 1


def test_nothing_computed_yet_answers_an_empty_report_that_says_so(rw: ReviewWorld) -> None:
    # Given a project with no quality report
    rw.make_project(high=1)
    # When its report is read
    view = rw.quality_service.view(rw.ref, "all", 0.9)
    # Then it has no class and says how to compute one
    assert view.summary is None and view.classes == () and view.message == NOT_COMPUTED


def test_a_quality_job_counts_the_tasks_with_both_and_matches_them_per_class(
    rw: ReviewWorld,
) -> None:
    # Given 16 pre-labeled and reviewed tasks and one reviewed only, in slices of 5
    _reviewed_world(rw)
    with_limits(rw, quality_tasks=5)
    # When the report is computed
    job = rw.loop.run(rw.quality_service.start(rw.ref, by_run=False))
    # Then the job went through 4 slices and a last step, and counted 16 tasks with both
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert len(rw.loop.steps[job.job_id]) == 5
    assert job.result == {
        "tasks": 16,
        "reviewed_only": 1,
        "prelabeled_only": 0,
        "scopes": 2,
        "classes": 2,
    }
    # And per class the figures are those of matching every task in one pass
    view = rw.quality_service.view(rw.ref, "all", 0.7)
    direct = QualityAccumulator()
    for review in rw.reviewed.page(rw.ref, None, 100).reviews:
        facts = rw.finder.facts(rw.ref, [review.task_id])[review.task_id]
        if facts.prelabel is not None:
            direct.add_task(evidence(review, facts.prelabel))
    expected = scope_report(ALL, direct.scope(ALL))
    by_class = {c.entry_id: c.quality for c in view.classes}
    assert by_class == {q.class_key: q for q in expected.classes}
    veh, per = by_class["veh"], by_class["per"]
    assert (veh.true_positives, veh.extra, veh.misses, veh.reviewed) == (12, 4, 0, 12)
    assert (per.true_positives, per.extra, per.misses) == (8, 8, 0)
    assert view.scope_tasks == 16 and view.summary is not None and view.summary.tasks == 16
    assert "16 tasks" in view.message and "1 reviewed without a pre-label" in view.message


def test_thresholds_are_calibrated_from_the_runs_floor_and_suggested_as_a_mapping(
    rw: ReviewWorld,
) -> None:
    # Given the reviewed project (car mapped at 0.3, person at the 0.5 default) and its report
    _reviewed_world(rw)
    rw.loop.run(rw.quality_service.start(rw.ref, by_run=False))
    # When it is read for a target precision of 0.7
    view = rw.quality_service.view(rw.ref, "all", 0.7)
    cls = {c.entry_id: c for c in view.classes}
    veh, per = cls["veh"].calibration, cls["per"].calibration
    # Then Vehicle reaches it at 0.36, just above the wrong 0.35 cars: 12 of 12 right
    assert veh is not None and veh.reachable and veh.threshold == 0.36
    assert veh.precision is not None and (veh.precision.hits, veh.precision.n) == (12, 12)
    assert veh.recall is not None and veh.recall.value == 1.0
    # And the evidence starts at the thresholds the run applied
    assert (cls["veh"].evidence_floor, cls["per"].evidence_floor) == (0.3, 0.5)
    # And Person (half right at every threshold) is not reachable, and no review proves it
    assert per is not None and not per.reachable and per.boxes_needed is None
    # And the current thresholds stand next to them, and the suggested mapping changes the
    # car row only
    assert [(t.detector_class, t.effective) for t in cls["veh"].current] == [("car", 0.3)]
    assert [(r.detector_class, r.entry_id, r.min_confidence) for r in view.suggested_rows] == [
        ("car", "veh", 0.36),
        ("person", "per", None),
    ]
    assert view.changed_rows == 1
    # And applying it is an ordinary mapping change
    rw.project_service.replace_mapping(rw.ref, list(view.suggested_rows), None)
    after = rw.quality_service.view(rw.ref, "all", 0.7)
    assert [t.effective for t in {c.entry_id: c for c in after.classes}["veh"].current] == [0.36]
    assert after.changed_rows == 0


def test_scopes_per_model_and_per_run_when_asked(rw: ReviewWorld) -> None:
    # Given the reviewed project, its report computed per run
    _reviewed_world(rw, high=3, low=1)
    run_id = rw.runs.latest(rw.ref).run_id  # type: ignore[union-attr]
    rw.loop.run(rw.quality_service.start(rw.ref, by_run=True))
    # When the scopes are read
    all_view = rw.quality_service.view(rw.ref, "all", 0.9)
    run_view = rw.quality_service.view(rw.ref, f"run:{run_id}", 0.9)
    model_view = rw.quality_service.view(rw.ref, "model:1", 0.9)
    missing = rw.quality_service.view(rw.ref, "run:run_unknown", 0.9)
    # Then the run and the model (the fake detector's version 1) hold the same 4 tasks
    assert all_view.summary is not None
    assert set(all_view.summary.scopes) == {"all", "model:1", f"run:{run_id}"}
    assert run_view.scope_tasks == model_view.scope_tasks == all_view.scope_tasks == 4
    # And a scope the report lacks answers empty, naming the scopes it has
    assert missing.classes == () and f"run:{run_id}" in missing.message


def test_a_report_is_stale_once_reviewed_labels_are_written_again(rw: ReviewWorld) -> None:
    # Given a computed report
    _reviewed_world(rw, high=2, low=0)
    rw.loop.run(rw.quality_service.start(rw.ref, by_run=False))
    assert rw.quality_service.view(rw.ref, "all", 0.9).stale == ()
    # When one task's reviewed labels are imported again
    shot = rw.shots[0]
    rw.import_file("again.json", coco([(shot.key, 128, 96, [])]))
    # Then the report says it is stale and why
    stale = rw.quality_service.view(rw.ref, "all", 0.9).stale
    assert stale == ("1 write of reviewed labels since",)


def test_a_crashed_slice_of_the_quality_job_counts_nothing_twice(rw: ReviewWorld) -> None:
    # Given the reviewed project, slices of 3, and a step that dies once after its tally
    _reviewed_world(rw)
    with_limits(rw, quality_tasks=3)
    files = rw.review_ports.files
    real_put = files.put
    crashed: list[str] = []

    def put_then_die(key: str, data: bytes) -> None:
        real_put(key, data)
        if "tally-000002" in key and not crashed:
            crashed.append(key)
            raise RuntimeError("the step's Lambda died after writing its tally")

    files.put = put_then_die  # type: ignore[method-assign]
    # When the report is computed
    job = rw.loop.run(rw.quality_service.start(rw.ref, by_run=False))
    # Then the rerun replaced its slice's tally: 16 tasks, as without the crash
    assert crashed and job.status is JobStatus.SUCCEEDED
    assert job.result["tasks"] == 16 and job.result["reviewed_only"] == 1
    veh = {c.entry_id: c for c in rw.quality_service.view(rw.ref, "all", 0.9).classes}["veh"]
    assert (veh.quality.true_positives, veh.quality.extra) == (12, 4)


def test_a_repeated_request_while_the_job_runs_answers_with_it(rw: ReviewWorld) -> None:
    # Given a quality job started
    rw.make_project(high=1)
    first = rw.quality_service.start(rw.ref, by_run=False)
    # When it is asked again
    again = rw.quality_service.start(rw.ref, by_run=True)
    # Then the same job answers, and the view shows it running
    assert again.job_id == first.job_id
    assert rw.quality_service.view(rw.ref, "all", 0.9).job == first


@pytest.mark.parametrize(
    ("scope", "target", "field"),
    [
        ("everything", 0.9, "scope"),
        ("run:", 0.9, "scope"),
        ("all", 1.0, "target_precision"),
        ("all", 0.0, "target_precision"),
    ],
)
def test_a_bad_scope_or_target_is_refused_naming_it(
    rw: ReviewWorld, scope: str, target: float, field: str
) -> None:
    rw.make_project(high=1)
    # When the report is read with it
    with pytest.raises(InvalidInput) as refused:
        rw.quality_service.view(rw.ref, scope, target)
    # Then the field is named
    assert refused.value.field == field
