"""The reviewed-label and quality-report adapters on DynamoDB Local: items per task in their
shard's partition with counts kept in the same transactions, pages merged over shards, a
project moved to shards after its reviews were written, and report items that never mix two
reports."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from prelabel.adapters.dynamodb import tasks as dynamo_tasks
from prelabel.adapters.dynamodb.keys import COUNTS_ITEM, Shard, shard_index
from prelabel.adapters.dynamodb.models import (
    ProjectModel,
    QualityItemModel,
    ReviewedCountsModel,
    ReviewedModel,
)
from prelabel.adapters.dynamodb.quality_reports import DynamoQualityReports
from prelabel.adapters.dynamodb.reviewed_items import forget_reviews
from prelabel.adapters.dynamodb.reviewed_labels import DynamoReviewedLabels, reviewed_item
from prelabel.adapters.dynamodb.shards import Layout, Layouts
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.container import Container
from prelabel.domain.entities import Box, Dataset, DatasetStatus, LabelingState, ProjectRef, Task
from prelabel.domain.errors import StorageError
from prelabel.domain.reviewed_labels import ReviewedCount, ReviewWrite, StoredBox, TaskReview
from prelabel.ports.quality_reports import QualitySummary
from prelabel.quality import ALL, QualityAccumulator, ScopeTally
from prelabel.quality.bins import SCORE_BINS
from prelabel.quality.tally import ClassTally
from tests.integration.core.test_task_shards import make_project as project
from tests.integration.core.test_task_shards import new_tasks
from tests.integration.plant import plant_prelabel
from tests.unit.quality.builders import task as evidence_task

pytestmark = pytest.mark.integration

CAR = StoredBox("veh", "Vehicle", Box(10.25, 20.5, 110.125, 95.0))
CROWD = StoredBox("veh", "Vehicle", Box(0, 0, 5, 5), crowd=True, difficult=True)


def review(
    task_id: str, job: str, source: int, boxes: tuple[StoredBox, ...] = (CAR,)
) -> TaskReview:
    return TaskReview(task_id, boxes, "coco", job, "2026-11-02T10:00:00Z", source, dropped=1)


def tasks(ports: Container, ref: ProjectRef, ids: list[str]) -> list[str]:
    """Task items of these ids where the project's layout puts them now (reviews need them)."""
    ports.tasks.add_many([Task(ref, t, "ds1", "b", f"{t}.jpg") for t in ids])
    return ids


def test_reviews_land_in_their_shards_with_counts_and_come_back_merged_in_order(
    ports: Container,
) -> None:
    # Given a project of 16 shards and 130 tasks' reviews from one job
    ref = project("p1", 16)
    store = DynamoReviewedLabels(ports.connection)
    ids = tasks(ports, ref, [f"t_{i:04d}" for i in range(130)])
    # When they are stored
    done = store.put(ref, [review(t, "job_a", i, (CAR, CROWD)) for i, t in enumerate(ids)])
    # Then all were written, each in its task's shard, pre-label partitions untouched
    assert sorted(done.written) == ids and done.kept == done.duplicates == ()
    for t in ids[:5]:
        shard = Shard(ref, shard_index(t, 16))
        item = ReviewedModel.get(shard.reviewed_key, t)
        assert (item.job_id, int(item.source), int(item.dropped)) == ("job_a", ids.index(t), 1)
    # And the counters of the shards sum to 130 tasks and 130 writes
    count = store.count(ref)
    assert (count.tasks, count.changes) == (130, 130)
    # And pages come back in task-id order across shards, boxes as stored (flags included)
    page, after, seen = None, None, []
    while True:
        page = store.page(ref, after, 50)
        seen += [r.task_id for r in page.reviews]
        if page.last is None:
            break
        after = page.last
    assert seen == ids
    assert store.get_many(ref, ["t_0007"])["t_0007"].boxes == (CAR, CROWD)


def test_a_retry_is_kept_another_image_of_the_job_is_a_duplicate_another_job_replaces(
    ports: Container,
) -> None:
    # Given two tasks reviewed by job A
    ref = project("p2", 16)
    store = DynamoReviewedLabels(ports.connection)
    tasks(ports, ref, ["t_a", "t_b"])
    store.put(ref, [review("t_a", "job_a", 0), review("t_b", "job_a", 1)])
    # When job A writes t_a again from the same image, and t_b from another image
    again = store.put(ref, [review("t_a", "job_a", 0), review("t_b", "job_a", 5, ())])
    # Then the first is kept, the second a duplicate: nothing changed
    assert (again.written, again.kept, again.duplicates) == ((), ("t_a",), ("t_b",))
    assert store.get_many(ref, ["t_b"])["t_b"].boxes == (CAR,)
    # When job B reviews t_b again with no box
    replaced = store.put(ref, [review("t_b", "job_b", 0, ())])
    # Then it replaces A's labels; 2 tasks, 3 writes
    assert replaced.written == ("t_b",)
    stored = store.get_many(ref, ["t_b"])["t_b"]
    assert (stored.job_id, stored.boxes) == ("job_b", ())
    count = store.count(ref)
    assert (count.tasks, count.changes) == (2, 3)


def test_a_project_moved_to_shards_after_its_reviews_moves_each_review_on_its_next_write(
    ports: Container,
) -> None:
    # Given a legacy project's reviews, under the unnumbered key
    ref = project("p3", None)
    store = DynamoReviewedLabels(ports.connection, Layouts())
    tasks(ports, ref, [f"t_{i}" for i in range(6)])
    store.put(ref, [review(f"t_{i}", "job_a", i) for i in range(6)])
    assert ReviewedModel.get(Shard(ref, None).reviewed_key, "t_0").job_id == "job_a"
    # When the project gets 16 shards (as a reshard job leaves it)
    ProjectModel("acme", "p3").update(actions=[ProjectModel.shards.set(16)])
    moved = DynamoReviewedLabels(ports.connection, Layouts())
    tasks(ports, ref, ["t_0"])  # where the reshard job put it
    # Then the reviews are still read, in order, and counted
    assert [r.task_id for r in moved.page(ref, None, 10).reviews] == [f"t_{i}" for i in range(6)]
    assert moved.count(ref).tasks == 6
    # When job B writes t_0 again
    moved.put(ref, [review("t_0", "job_b", 0, ())])
    # Then it lives in its shard only, and the count still says 6 tasks
    shard = Shard(ref, shard_index("t_0", 16))
    assert ReviewedModel.get(shard.reviewed_key, "t_0").job_id == "job_b"
    assert ReviewedModel.count(Shard(ref, None).reviewed_key, ReviewedModel.task_id == "t_0") == 0
    assert moved.count(ref).tasks == 6
    legacy = ReviewedCountsModel.get(Shard(ref, None).reviewed_counts_key, COUNTS_ITEM)
    assert int(legacy.tasks) == 5


def legacy_reviews(ref: ProjectRef, reviews: list[TaskReview]) -> None:
    """Reviews as a write left them before the project had shards: under the unnumbered key,
    with its counters (the tasks have moved to their shard since)."""
    legacy = Shard(ref, None)
    for r in reviews:
        reviewed_item(legacy, r).save()
    ReviewedCountsModel(legacy.reviewed_counts_key, COUNTS_ITEM).update(
        actions=[
            ReviewedCountsModel.tasks.add(len(reviews)),
            ReviewedCountsModel.changes.add(len(reviews)),
        ]
    )


def test_removing_a_datasets_tasks_takes_their_reviews_under_the_shard_and_the_old_key(
    ports: Container,
) -> None:
    # Given a project of one shard with a dataset of 50 pre-labeled tasks and another of 5;
    # reviews of 45 under the shard, and of 40 under the unnumbered key (written before the
    # project had shards): 30 tasks have both, the most items a task's deletion can bring
    ref = project("p6", 1)
    ports.datasets.create(
        Dataset(ref, "ds1", "b", "p/", 0, "now", status=DatasetStatus.IMPORTING, job_id="job_x")
    )
    gone = [t.task_id for t in new_tasks(ref, 50, LabelingState.WAITING)]
    ports.tasks.add_dataset_tasks(ref, "ds1", "job_x", new_tasks(ref, 50, LabelingState.WAITING))
    kept = [t.task_id for t in new_tasks(ref, 5, LabelingState.BACKLOG, dataset="ds2")]
    ports.tasks.add_many(new_tasks(ref, 5, LabelingState.BACKLOG, dataset="ds2"))
    for task_id in gone:
        plant_prelabel(ref, task_id)
    home = [*gone[:30], *gone[40:], *kept]
    DynamoReviewedLabels(ports.connection, Layouts()).put(
        ref, [review(t, "job_new", i) for i, t in enumerate(home)]
    )
    legacy_reviews(ref, [review(t, "job_old", i) for i, t in enumerate(gone[:40])])
    store = DynamoReviewedLabels(ports.connection, Layouts())
    assert store.count(ref) == ReviewedCount(85, 85)
    # When the dataset's tasks are removed
    removed = ports.tasks.delete_dataset_tasks(ref, "ds1", "job_x", 1000)
    # Then all 50 went in transactions within DynamoDB's 100 items, and no review of theirs is
    # left in either partition; the other dataset's 5 stay
    assert (removed.removed, removed.left) == (50, False)
    assert store.get_many(ref, gone) == {}
    assert len(list(ReviewedModel.query(Shard(ref, None).reviewed_key))) == 0
    assert sorted(i.task_id for i in ReviewedModel.query(Shard(ref, 0).reviewed_key)) == sorted(
        kept
    )
    # And each partition's counter lost its own items, each removal counted as a change
    legacy = ReviewedCountsModel.get(Shard(ref, None).reviewed_counts_key, COUNTS_ITEM)
    shard = ReviewedCountsModel.get(Shard(ref, 0).reviewed_counts_key, COUNTS_ITEM)
    assert (int(legacy.tasks), int(shard.tasks)) == (0, 5)
    assert store.count(ref) == ReviewedCount(5, 85 + 80)
    # When the removal runs again (a step rerun after a crash)
    again = ports.tasks.delete_dataset_tasks(ref, "ds1", "job_x", 1000)
    # Then it removes and counts nothing more
    assert (again.removed, again.left) == (0, False)
    assert store.count(ref) == ReviewedCount(5, 165)


def test_labels_of_tasks_removed_before_the_write_are_not_written(ports: Container) -> None:
    # Given a dataset of 3 tasks, matched by an import, then disconnected
    ref = project("p7", 16)
    ports.datasets.create(
        Dataset(ref, "ds1", "b", "p/", 0, "now", status=DatasetStatus.IMPORTING, job_id="job_x")
    )
    ports.tasks.add_dataset_tasks(ref, "ds1", "job_x", new_tasks(ref, 3, LabelingState.WAITING))
    ids = [t.task_id for t in new_tasks(ref, 3, LabelingState.WAITING)]
    ports.tasks.delete_dataset_tasks(ref, "ds1", "job_x", 1000)
    # And one task of another dataset
    kept = tasks(ports, ref, ["t_kept"])
    store = DynamoReviewedLabels(ports.connection)
    # When the import writes the labels of all 4
    done = store.put(ref, [review(t, "job_a", i) for i, t in enumerate([*ids, *kept])])
    # Then only the task that is there gets them; the 3 are reported gone
    assert (done.written, sorted(done.gone)) == (("t_kept",), sorted(ids))
    assert store.get_many(ref, ids) == {}
    assert store.count(ref) == ReviewedCount(1, 1)


def test_labels_written_while_a_disconnect_deletes_their_task_go_with_it(
    ports: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dataset of 4 tasks, none reviewed
    ref = project("p8", 1)
    ports.datasets.create(
        Dataset(ref, "ds1", "b", "p/", 0, "now", status=DatasetStatus.IMPORTING, job_id="job_x")
    )
    ports.tasks.add_dataset_tasks(ref, "ds1", "job_x", new_tasks(ref, 4, LabelingState.WAITING))
    ids = [t.task_id for t in new_tasks(ref, 4, LabelingState.WAITING)]
    store = DynamoReviewedLabels(ports.connection)
    # And an import that writes the first task's labels after the disconnect read what the
    # tasks have, before its transaction commits
    raced: list[ReviewWrite] = []

    def forget_then_race(tx: Transaction, layout: Layout, task_ids: Sequence[str]) -> int:
        gone = forget_reviews(tx, layout, task_ids)
        if not raced:
            raced.append(store.put(ref, [review(ids[0], "job_a", 0)]))
        return gone

    monkeypatch.setattr(dynamo_tasks, "forget_reviews", forget_then_race)
    # When the dataset is disconnected
    removed = ports.tasks.delete_dataset_tasks(ref, "ds1", "job_x", 1000)
    # Then the labels were written meanwhile, and went with their task: none outlives it
    assert raced[0].written == (ids[0],)
    assert (removed.removed, removed.left) == (4, False)
    assert store.get_many(ref, ids) == {}
    assert list(ReviewedModel.query(Shard(ref, 0).reviewed_key)) == []
    # And the counts say no task, one write and one removal
    assert store.count(ref) == ReviewedCount(0, 2)


def _summary(job: str, scopes: tuple[str, ...]) -> QualitySummary:
    return QualitySummary(job, "2026-11-02T10:00:00Z", False, 3, 1, 2, 7, 5, scopes)


def test_a_new_quality_report_replaces_the_old_and_a_read_never_mixes_them(
    ports: Container,
) -> None:
    # Given a report of job 1 with classes veh and per in two scopes
    ref = project("p4", 16)
    reports = DynamoQualityReports()
    acc = QualityAccumulator()
    for t in [evidence_task("veh", [0.9], [0.4]), evidence_task("per", [0.8], missed=1)]:
        acc.add_task(t)
    scopes = {s.key: t for s, t in acc.scopes.items()}
    reports.replace(ref, _summary("job_1", tuple(scopes)), scopes, {"all": {"veh": 0.3}})
    # When it is read
    first = reports.read(ref, "all")
    # Then the scope comes back as stored, with its floors and summary
    assert first is not None and first.tally == acc.scope(ALL) and first.floors == {"veh": 0.3}
    assert first.summary == _summary("job_1", tuple(scopes))
    assert reports.read(ref, "model:m1") is not None and reports.read(ref, "run:r1") is None
    # When job 2 stores a report with class veh only, in the scope "all" only
    only = ScopeTally(1, {"veh": acc.scope(ALL).classes["veh"]})
    reports.replace(ref, _summary("job_2", ("all",)), {"all": only}, {})
    # Then reads see job 2's report only, and no item of job 1 is left
    second = reports.read(ref, "all")
    assert second is not None and set(second.tally.classes) == {"veh"}
    assert second.summary.job_id == "job_2" and reports.read(ref, "model:m1") is None
    items = list(QualityItemModel.query(f"{ref.key}#quality"))
    assert {i.job_id for i in items} == {"job_2"} and len(items) == 2


def test_a_full_class_tally_fits_an_item_and_a_stray_one_is_refused(ports: Container) -> None:
    # Given a class tally with every score bin used, and 200 confused classes
    ref = project("p5", 16)
    full = ClassTally(reviewed=10**6)
    for b in range(SCORE_BINS):
        full.tp[b], full.fp[b] = 123_456, 654_321
    full.confused_with = {f"class_{i:03d}": 99_999 for i in range(200)}
    reports = DynamoQualityReports()
    # When it is stored
    reports.replace(ref, _summary("job_1", ("all",)), {"all": ScopeTally(5, {"veh": full})}, {})
    # Then it is one item, read back equal
    found = reports.read(ref, "all")
    assert found is not None and found.tally.classes["veh"] == full
    # And a body past the limit would be refused before any write, naming the class
    huge = ClassTally()
    huge.confused_with = {f"c{i:06d}" * 4: 1 for i in range(20_000)}
    with pytest.raises(StorageError, match="the tally of veh"):
        reports.replace(ref, _summary("job_2", ("all",)), {"all": ScopeTally(1, {"veh": huge})}, {})
