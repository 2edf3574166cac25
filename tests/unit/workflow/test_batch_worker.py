"""The batch worker over in-memory ports: what it charges, labels, counts and leaves alone."""

from __future__ import annotations

import pytest

from prelabel.domain.entities import LabelingState, PrelabelState, RunStatus
from prelabel.domain.errors import Busy
from prelabel.imaging import budget
from prelabel.ports.detector import DetectorUnavailable
from prelabel.ports.labeling import BatchCommit, CommitResult
from tests.unit.fakes.world import BUCKET, ORG, World, jpeg


def _started(world: World, **project: int) -> tuple[object, str]:
    ref = world.project(**project)
    outcome = world.run_service.start(ref, confirm=True)
    assert outcome.started and outcome.run is not None
    world.prepare(ref, outcome.run.run_id)
    return ref, outcome.run.run_id


def test_a_run_labels_every_eligible_task_once_and_charges_one_unit_each() -> None:
    # Given 10 WAITING and 3 BACKLOG tasks, batches of 4
    world = World()
    ref, run_id = _started(world, waiting=10, backlog=3, limit=100)
    # When every batch of the manifest is processed
    world.run_all(run_id)
    # Then the 10 are DONE with the mapped boxes, charged once each; BACKLOG untouched
    tasks = [world.tasks.get(ref, f"t{i:04d}") for i in range(13)]
    assert [t.prelabel_state for t in tasks[:10]] == [PrelabelState.DONE] * 10
    assert all(t.prelabel_state is None for t in tasks[10:])
    assert {lbl.entry_name for lbl in tasks[0].labels} == {"Vehicle", "Person"}
    assert world.orgs.remaining(ORG) == 90
    run = world.runs.get(ref, run_id)
    assert (run.counters.total, run.counters.labeled, run.counters.left) == (10, 10, 0)
    # And the project's counters moved with the work, and the detector saw one call a batch
    counts = world.tasks.counts(ref)
    assert (counts.eligible, counts.prelabeled, counts.by_state[LabelingState.BACKLOG]) == (
        0,
        10,
        3,
    )
    assert world.detector.calls == [4, 4, 2]


def test_boxes_come_back_in_the_original_images_pixels() -> None:
    # Given a 1280x960 photo sent to the detector at 64 px (scale 20)
    world = World()
    ref = world.project(waiting=1)
    world.objects.put(BUCKET, f"{ORG}/img_0000.jpg", jpeg(1280, 960))
    run_id = world.run_service.start(ref, confirm=True).run.run_id  # type: ignore[union-attr]
    world.prepare(ref, run_id)
    # When its batch is processed
    world.run_all(run_id)
    # Then the car's box (10,10)-(50,40) at 64x48 is (200,200)-(1000,800) on the original
    task = world.tasks.get(ref, "t0000")
    car = next(lbl for lbl in task.labels if lbl.detector_class == "car")
    assert (task.image_width, task.image_height) == (1280, 960)
    assert car.box.as_list() == pytest.approx([200.0, 200.0, 1000.0, 800.0], abs=0.01)


def test_the_limit_is_read_first_and_what_does_not_fit_is_left_for_later() -> None:
    # Given 8 WAITING tasks and 5 units left
    world = World()
    ref, run_id = _started(world, waiting=8, limit=5)
    # When the run is processed
    world.run_all(run_id)
    # Then 5 are labeled, 3 are skipped for quota and still eligible; nothing overspent
    run = world.runs.get(ref, run_id)
    assert (run.counters.labeled, run.counters.skipped_quota, run.counters.left) == (5, 3, 0)
    assert run.quota_exhausted
    assert world.orgs.remaining(ORG) == 0
    assert list(world.tasks.eligible_ids(ref)) == ["t0005", "t0006", "t0007"]
    # And the detector never saw an image that could not be charged
    assert sum(world.detector.calls) == 5


def test_a_limit_that_shrinks_before_the_commit_keeps_what_fits() -> None:
    # Given a batch of 4 whose limit drops to 1 while its images are at the detector
    world = World()
    ref, run_id = _started(world, waiting=4, limit=100)
    answer = world.detector.answer

    def spend_meanwhile(image: bytes) -> list:  # type: ignore[type-arg]
        world.orgs.set_remaining(ORG, 1)
        return answer(image)

    world.detector.answer = spend_meanwhile
    # When the batch commits
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then 1 is labeled and charged, 3 are skipped for quota and left untouched
    assert (report.labeled, report.skipped_quota) == (1, 3)
    assert world.orgs.remaining(ORG) == 0
    assert len(list(world.tasks.eligible_ids(ref))) == 3


def test_tasks_gone_before_their_batch_are_withdrawn_from_the_total() -> None:
    # Given a run of 4, and one task's dataset disconnected before the batch ran
    world = World()
    ref, run_id = _started(world, waiting=4)
    world.db.tasks.pop((ref, "t0001"))
    # When the batch runs
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then 3 are labeled and the run's total no longer counts the missing one
    assert (report.labeled, report.withdrawn) == (3, 1)
    run = world.runs.get(ref, run_id)
    assert (run.counters.total, run.counters.labeled, run.counters.left) == (3, 3, 0)


def test_a_stop_during_the_batch_leaves_it_unwritten_and_uncharged() -> None:
    # Given a batch whose run is stopped while its images are at the detector
    world = World()
    ref, run_id = _started(world, waiting=4, limit=100)
    answer = world.detector.answer

    def stop_meanwhile(image: bytes) -> list:  # type: ignore[type-arg]
        world.runs.request_stop(ref, run_id)
        return answer(image)

    world.detector.answer = stop_meanwhile
    # When the batch tries to commit
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then nothing is labeled or charged, and the run's counters are as the stop left them
    assert report.outcome == "run_not_running"
    assert world.orgs.remaining(ORG) == 100
    assert world.runs.get(ref, run_id).counters.labeled == 0
    assert len(list(world.tasks.eligible_ids(ref))) == 4


def test_a_batch_of_a_stopped_run_does_not_even_fetch_its_images() -> None:
    # Given a run stopped before its batch started
    world = World()
    ref, run_id = _started(world, waiting=4)
    world.run_service.stop(ref)
    # When the batch is invoked anyway (it was already in flight in the Map)
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then it does nothing at all
    assert report.outcome == "run_not_running"
    assert world.objects.fetched == []
    assert world.detector.calls == []


def test_a_detector_that_keeps_failing_leaves_the_batch_untouched() -> None:
    # Given a detector that is unavailable
    world = World()
    world.detector.fail = True
    ref, run_id = _started(world, waiting=4, limit=100)
    # When the batch runs, it fails so the workflow retries it
    with pytest.raises(DetectorUnavailable):
        world.worker.label_batch(world.batches_of(run_id)[0])
    # Then nothing was written or charged, and the tasks are still eligible
    assert world.db.commits == []
    assert world.orgs.remaining(ORG) == 100
    assert len(list(world.tasks.eligible_ids(ref))) == 4


def test_corrupt_and_missing_images_fail_with_their_reason_and_cost_nothing() -> None:
    # Given a batch with a corrupt file and a missing object among good ones
    world = World()
    ref, run_id = _started(world, waiting=4, limit=100)
    world.objects.put(BUCKET, f"{ORG}/img_0001.jpg", b"not a jpeg at all")
    del world.objects.objects[(BUCKET, f"{ORG}/img_0002.jpg")]
    # When it runs
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then 2 are DONE and charged, 2 FAILED with reasons, charged nothing
    assert (report.labeled, report.failed) == (2, 2)
    # And only the 2 readable images went to the detector
    assert report.endpoint is not None and report.endpoint.images == 2
    assert "not a readable image" in (world.tasks.get(ref, "t0001").prelabel_reason or "")
    assert "NoSuchKey" in (world.tasks.get(ref, "t0002").prelabel_reason or "")
    assert world.orgs.remaining(ORG) == 98
    assert world.tasks.counts(ref).failed == 2


def test_a_batch_with_no_readable_image_never_calls_the_detector() -> None:
    # Given a batch whose every file is corrupt
    world = World()
    _, run_id = _started(world, waiting=3, limit=100)
    for i in range(3):
        world.objects.put(BUCKET, f"{ORG}/img_{i:04d}.jpg", b"GIF89a but not really")
    # When it runs
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then every task fails, the endpoint (and its latency metric) is left out, nothing is charged
    assert (report.labeled, report.failed, report.endpoint) == (0, 3, None)
    assert world.detector.calls == []
    assert world.orgs.remaining(ORG) == 100


def test_a_retried_batch_after_its_commit_changes_nothing() -> None:
    # Given a batch that committed, then is delivered again (a retry after a lost answer)
    world = World()
    ref, run_id = _started(world, waiting=4, limit=100)
    item = world.batches_of(run_id)[0]
    world.worker.label_batch(item)
    # When it runs again
    again = world.worker.label_batch(item)
    # Then it finds its receipt: no second charge, no second label
    assert again.outcome == "already_committed"
    assert world.orgs.remaining(ORG) == 96
    assert world.runs.get(ref, run_id).counters.labeled == 4


def test_a_commit_that_meets_a_concurrent_transaction_is_sent_again() -> None:
    # Given a store that is busy once (another batch's transaction held the limit)
    world = World()
    _ref, run_id = _started(world, waiting=4, limit=100)
    real = world.batches.commit
    calls: list[int] = []

    def busy_once(batch: BatchCommit) -> CommitResult:
        calls.append(1)
        if len(calls) == 1:
            raise Busy("commit batch: a concurrent transaction held an item; try again")
        return real(batch)

    world.worker.batches.commit = busy_once  # type: ignore[method-assign]
    # When the batch runs
    report = world.worker.label_batch(world.batches_of(run_id)[0])
    # Then the second attempt committed everything once
    assert (report.outcome, report.labeled, len(calls)) == ("committed", 4, 2)
    assert world.orgs.remaining(ORG) == 96


class WorkerDied(BaseException):
    """Stands for the process dying: no except clause of the worker catches it."""


def test_an_image_that_kills_the_worker_twice_fails_alone_and_its_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a batch of 4 whose third image kills the process whenever it is decoded
    world = World()
    ref, run_id = _started(world, waiting=4, limit=100)
    world.objects.put(BUCKET, f"{ORG}/img_0002.jpg", b"POISON")
    real_open = budget.open_image

    def dying(data: bytes, target: int) -> object:
        if data == b"POISON":
            raise WorkerDied
        return real_open(data, target)

    monkeypatch.setattr(budget, "open_image", dying)
    item = world.batches_of(run_id)[0]
    # When the workflow retries the batch after each death (attempt = its retry count)
    deaths = 0
    for attempt in range(6):
        try:
            report = world.worker.label_batch(item, attempt=attempt)
            break
        except WorkerDied:
            deaths += 1
    # Then the batch died 3 times (once together, twice with that image alone), and then the
    # image is FAILED with the reason and the 3 others are labeled and charged
    assert deaths == 3
    assert (report.labeled, report.failed, report.isolated) == (3, 1, True)
    poison = world.tasks.get(ref, "t0002")
    assert poison.prelabel_state is PrelabelState.FAILED
    assert "stopped 2 times while decoding this image" in (poison.prelabel_reason or "")
    assert world.orgs.remaining(ORG) == 97
    # And no crash note is left behind
    assert world.crash_log.suspect(run_id, 0) is None


def test_the_first_attempt_writes_no_crash_notes() -> None:
    # Given an ordinary run
    world = World()
    _, run_id = _started(world, waiting=8)
    # When its batches run once each
    world.run_all(run_id)
    # Then no crash note was written: only retried batches pay for isolation
    assert world.crash_log.notes_written == 0


def test_a_run_that_ended_keeps_its_figures_when_a_late_batch_arrives() -> None:
    # Given a run finished as COMPLETED with one batch still unprocessed (its Lambda was slow)
    world = World()
    ref, run_id = _started(world, waiting=8, limit=100)
    world.worker.label_batch(world.batches_of(run_id)[0])
    finished = world.run_service.finish(ref, run_id)
    assert finished is not None and finished.status is RunStatus.COMPLETED
    # When the late batch arrives
    report = world.worker.label_batch(world.batches_of(run_id)[1])
    # Then it writes nothing: the run's figures stay final
    assert report.outcome == "run_not_running"
    assert world.runs.get(ref, run_id).counters == finished.counters
    assert world.orgs.remaining(ORG) == 96
