"""Reviewed labels go with their tasks: a disconnect (or a reconnect, whose old tasks go)
deletes each removed task's reviewed labels in the write that deletes the task, and lowers the
count as much, so the quality report neither counts tasks that are gone nor looks fresh when
they went. A slice that dies after part of its deletions counts nothing twice on its rerun."""

from __future__ import annotations

from prelabel.domain.entities import ProjectRef
from prelabel.domain.jobs import Job, JobStatus
from prelabel.ports.tasks import Removal
from prelabel.services.jobs.context import StepLimits
from tests.unit.fakes.outside import ScriptedDetector
from tests.unit.fakes.store import MemoryTasks
from tests.unit.reviewed_jobs.conftest import (
    BUCKET,
    CAR_BOX,
    PERSON_BOX,
    ReviewWorld,
    Shot,
    coco,
    detections,
)


def _world() -> ReviewWorld:
    """Disconnects delete 2 tasks a step, so a dataset of 3 takes two."""
    return ReviewWorld(
        detector=ScriptedDetector(answer=detections),
        bucket=BUCKET,
        limits=StepLimits(delete_tasks=2),
    )


def _review_all(rw: ReviewWorld) -> None:
    images = [
        (s.key, 128, s.height, [("Vehicle", CAR_BOX), ("Person", PERSON_BOX)]) for s in rw.shots
    ]
    job = rw.import_file("review.json", coco(images))
    assert job.status is JobStatus.SUCCEEDED and job.result["images_matched"] == len(rw.shots)


def _dataset_of(rw: ReviewWorld, shot: Shot) -> str:
    return rw.db.tasks[(rw.ref, rw.task_of(shot.key))].dataset_id


def _report(rw: ReviewWorld) -> Job:
    job = rw.loop.run(rw.quality_service.start(rw.ref, by_run=False))
    assert job.status is JobStatus.SUCCEEDED, job.error
    return job


def _reviewed_ids(rw: ReviewWorld) -> set[str]:
    return {r.task_id for r in rw.reviewed.page(rw.ref, None, 100).reviews}


def test_a_disconnect_deletes_its_tasks_reviewed_labels_and_the_report_counts_what_is_left() -> (
    None
):
    rw = _world()
    # Given 6 images in two datasets (cam: images 0, 2, 4; other: 1, 3, 5), images 0-3
    # pre-labeled, all 6 reviewed, and a report of 4 tasks with both and 2 reviewed only
    rw.make_project(high=6, folders=("cam", "other"))
    rw.prelabel([s.key for s in rw.shots[:4]])
    _review_all(rw)
    before = _report(rw)
    assert (before.result["tasks"], before.result["reviewed_only"]) == (4, 2)
    cam = _dataset_of(rw, rw.shots[0])
    cam_ids = {rw.task_of(s.key) for s in rw.shots[0::2]}
    # When the cam dataset is disconnected (two steps of its slice)
    ended = rw.loop.run(rw.dataset_service.disconnect(rw.ref, cam))
    # Then its 3 tasks went with their reviewed labels; the other dataset's stay
    assert ended.status is JobStatus.SUCCEEDED and ended.result == {"removed": 3}
    assert _reviewed_ids(rw) == {rw.task_of(s.key) for s in rw.shots[1::2]}
    assert not cam_ids & _reviewed_ids(rw)
    # And the count says 3 reviewed tasks, and 6 writes and 3 removals
    count = rw.reviewed.count(rw.ref)
    assert (count.tasks, count.changes) == (3, 9)
    # And the old report is stale, saying both why
    assert rw.quality_service.view(rw.ref, "all", 0.9).stale == (
        "3 writes of reviewed labels since",
        "pre-labeled tasks: 4 then, 2 now",
    )
    # When the report is computed again
    after = _report(rw)
    # Then it counts the 2 tasks with both left and the one reviewed only (image 5)
    assert (after.result["tasks"], after.result["reviewed_only"]) == (2, 1)
    assert rw.quality_service.view(rw.ref, "all", 0.9).stale == ()


class DiesAfterOneDeletion(MemoryTasks):
    """The first deletion step removes one task, then its Lambda dies: the step runs again."""

    def __init__(self, rw: ReviewWorld) -> None:
        super().__init__(rw.db)
        self.died = False

    def delete_dataset_tasks(
        self,
        ref: ProjectRef,
        dataset_id: str,
        job_id: str,
        limit: int,
        part: int | None = None,
        slice: tuple[int, int] | None = None,
    ) -> Removal:
        if not self.died:
            self.died = True
            super().delete_dataset_tasks(ref, dataset_id, job_id, 1, part, slice)
            raise RuntimeError("died after deleting one task")
        return super().delete_dataset_tasks(ref, dataset_id, job_id, limit, part, slice)


def test_a_disconnect_slice_that_dies_midway_removes_and_counts_each_review_once() -> None:
    rw = _world()
    # Given 6 reviewed images in two datasets, only the other dataset's pre-labeled, a report
    # (3 with both, 3 reviewed only), and a disconnect step that dies after one deletion
    rw.make_project(high=6, folders=("cam", "other"))
    rw.prelabel([s.key for s in rw.shots[1::2]])
    _review_all(rw)
    assert _report(rw).result["reviewed_only"] == 3
    dying = DiesAfterOneDeletion(rw)
    rw.job_runner.context.tasks = dying
    # When the cam dataset is disconnected
    ended = rw.loop.run(rw.dataset_service.disconnect(rw.ref, _dataset_of(rw, rw.shots[0])))
    # Then the step ran again and the job removed 3 tasks, each counted once
    assert dying.died and ended.status is JobStatus.SUCCEEDED
    assert ended.result == {"removed": 3}
    count = rw.reviewed.count(rw.ref)
    assert (count.tasks, count.changes) == (3, 9) and len(_reviewed_ids(rw)) == 3
    # And the report is stale though no pre-labeled count moved: the reviews that went say so
    assert rw.quality_service.view(rw.ref, "all", 0.9).stale == (
        "3 writes of reviewed labels since",
    )
    # And a new one has no task reviewed only
    after = _report(rw)
    assert (after.result["tasks"], after.result["reviewed_only"]) == (3, 0)


def test_a_reconnect_leaves_no_reviewed_labels_of_the_old_tasks() -> None:
    rw = _world()
    # Given a dataset of 3 reviewed images
    rw.make_project(high=3)
    _review_all(rw)
    old = _reviewed_ids(rw)
    assert len(old) == 3
    # When it is reconnected (its tasks replaced by a new generation)
    job = rw.dataset_service.reconnect(rw.locs, rw.ref, _dataset_of(rw, rw.shots[0]))
    ended = rw.loop.run(job)
    # Then the 3 new tasks have no reviewed labels, the old ones' are gone, and the count
    # says none, after 3 writes and 3 removals
    assert ended.status is JobStatus.SUCCEEDED and ended.result["tasks"] == 3
    assert {rw.task_of(s.key) for s in rw.shots}.isdisjoint(old)
    assert _reviewed_ids(rw) == set()
    count = rw.reviewed.count(rw.ref)
    assert (count.tasks, count.changes) == (0, 6)
