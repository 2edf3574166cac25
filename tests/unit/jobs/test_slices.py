"""Jobs in parallel slices over the fakes: how imports, moves and disconnects are cut, that
slices running at once (three here) count every task once, that a slice's step that crashed or
ran twice writes and counts nothing twice, and that executions hand over before Step Functions'
history quota (continue-as-new), the job's item naming the execution that goes on."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import LabelingState
from prelabel.domain.imports import ManifestFormat
from prelabel.domain.jobs import JobKind, JobStatus, ProgressUnit
from prelabel.ports.tasks import Sharding
from prelabel.services.jobs.runner import Execution, next_execution_name
from tests.unit.jobs.conftest import BUCKET, JobWorld


def _limits(w: JobWorld, **changes: object) -> None:
    ctx = w.job_runner.context
    ctx.limits = dataclasses.replace(ctx.limits, **changes)  # type: ignore[arg-type]


def _import(w: JobWorld, **source: str | ManifestFormat) -> str:
    _, job = w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, **source))  # type: ignore[arg-type]
    w.loop.run(job)
    return job.job_id


def _together(w: JobWorld, n: int) -> None:
    """The first `n` slice steps wait for each other: they run at the same time, or fail."""
    barrier = threading.Barrier(n, timeout=10)
    waited = [0]

    def wait(key: str, attempt: int) -> None:
        with lock:
            first = waited[0] < n
            waited[0] += 1
        if first:
            barrier.wait()

    lock = threading.Lock()
    w.loop.before_slice = wait


def _keys_of_tasks(w: JobWorld) -> Counter[str]:
    return Counter(t.image_key for t in w.db.tasks.values())


def test_a_prefix_is_split_by_its_folders_and_every_image_is_imported_once(w: JobWorld) -> None:
    # Given images directly under a prefix, in 3 camera folders (one with 2 day folders) and a
    # folder holding only a folder marker
    keys = w.images("acme/site/", 3)
    for cam in ("cam1/", "cam2/"):
        keys += w.images(f"acme/site/{cam}", 4)
    for day in ("d1/", "d2/"):
        keys += w.images(f"acme/site/cam3/{day}", 6)
    w.objects.put(BUCKET, "acme/site/empty/", b"")
    # When the prefix is imported (its first three slices' steps waiting for each other)
    _together(w, 3)
    job_id = _import(w, prefix="acme/site/")
    # Then the plan has a slice per folder, down to the day folders, and one for the objects
    # right under each split prefix
    plan = w.db.plans[job_id][0]
    assert sorted((s["prefix"], s["mode"]) for s in plan) == [
        ("acme/site/", "direct"),
        ("acme/site/cam1/", "all"),
        ("acme/site/cam2/", "all"),
        ("acme/site/cam3/d1/", "all"),
        ("acme/site/cam3/d2/", "all"),
        ("acme/site/empty/", "all"),
    ]
    # And every image is one task, counted once; progress counts each object once
    assert _keys_of_tasks(w) == Counter(keys)
    job = w.jobs.get(w.ref, job_id)
    assert (job.status, job.result["tasks"], job.done) == (JobStatus.SUCCEEDED, 23, 24)
    assert w.tasks.counts(w.ref).total == 23
    # And slices ran at the same time, three at most, as the plan said
    assert w.loop.most_at_once == 3


def test_more_folders_than_slices_go_together_in_key_ranges(w: JobWorld) -> None:
    # Given 12 folders of 2 images, objects between them in key order (b.jpg sorts between
    # b/ and b0/), and room for 4 slices only
    _limits(w, plan_slices=4)
    keys = w.images("acme/x/", 2)
    for folder in ["a", "b", "b0", "c", "d", "e", "f", "g", "h", "i", "j", "k"]:
        keys += w.images(f"acme/x/{folder}/", 2)
    for key in ("acme/x/b.jpg", "acme/x/zz.jpg"):
        w.objects.put(BUCKET, key, b"jpeg")
        keys.append(key)
    # When the prefix is imported
    job_id = _import(w, prefix="acme/x/")
    # Then there are 4 slices: the direct objects, and the folders in 3 key ranges
    plan = w.db.plans[job_id][0]
    assert [s["mode"] for s in plan] == ["direct", "folders", "folders", "folders"]
    assert [(s["first"], s["before"]) for s in plan[1:]] == [
        ("acme/x/a/", "acme/x/d/"),
        ("acme/x/d/", "acme/x/h/"),
        ("acme/x/h/", None),
    ]
    # And each image is one task, none counted twice (b.jpg sorts inside the first range's
    # keys but belongs to the direct slice)
    assert _keys_of_tasks(w) == Counter(keys)
    assert w.jobs.get(w.ref, job_id).done == len(keys)


def test_a_flat_prefix_is_one_slice_listed_from_the_start(w: JobWorld) -> None:
    # Given 23 images and no folder
    w.images("acme/flat/", 23)
    # When imported
    job_id = _import(w, prefix="acme/flat/")
    # Then one slice listed them, 10 a step, as the one-step loop did
    assert w.db.plans[job_id][0] == [{"prefix": "acme/flat/", "mode": "all"}]
    assert len(w.loop.slice_steps[job_id]) == 3
    assert w.tasks.counts(w.ref).total == 23


@pytest.mark.parametrize("slice_bytes", [1, 7, 45, 46, 10_000])
def test_byte_ranges_read_every_manifest_line_once_wherever_they_cut(
    w: JobWorld, slice_bytes: int
) -> None:
    # Given a manifest of 40 lines of 45 or 46 bytes, cut into ranges of `slice_bytes` (inside
    # lines, at their ends, or none)
    lines = [f'{{"source-ref": "s3://{BUCKET}/acme/m/{i:04d}.jpg"}}' for i in range(40)]
    w.manifest("acme/m.manifest", lines)
    size = len(w.objects.objects[(BUCKET, "acme/m.manifest")])
    _limits(w, manifest_slice_bytes=slice_bytes)
    # When it is imported
    job_id = _import(w, manifest_key="acme/m.manifest", manifest_format=ManifestFormat.GROUND_TRUTH)
    # Then each line is one task, once, and progress is the manifest's size exactly
    assert sorted(_keys_of_tasks(w).elements()) == [f"acme/m/{i:04d}.jpg" for i in range(40)]
    job = w.jobs.get(w.ref, job_id)
    assert (job.done, job.total, job.unit) == (size, size, ProgressUnit.BYTES)
    assert len(w.db.plans[job_id][0]) == min(1000, -(-size // slice_bytes))


def test_a_large_move_runs_a_slice_per_shard_at_once_and_counts_each_task_once(
    w: JobWorld,
) -> None:
    # Given 60 BACKLOG tasks, and a move large enough for slices per shard (10 tasks a slice)
    w.images("acme/cam/", 60)
    _import(w, prefix="acme/cam/")
    _limits(w, slice_tasks=10)
    # And a slice whose second step dies after its writes, before its record is committed
    crashed: list[str] = []
    original = w.jobs.advance_slice

    def dies_once(*args: object, **kwargs: object) -> bool:
        if not crashed and args[3].step == 2:  # type: ignore[attr-defined]
            crashed.append("x")
            raise RuntimeError("the slice's Lambda died after its writes")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    w.jobs.advance_slice = dies_once  # type: ignore[method-assign]
    _limits(w, move_tasks=2)
    _together(w, 3)
    # When all are moved to WAITING
    job = w.task_service.move_all(w.ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING)
    ended = w.loop.run(job)
    # Then there was a slice per shard, three at a time, and one crashed and ran again
    assert len(w.db.plans[job.job_id][0]) == 16 and crashed
    assert w.loop.most_at_once == 3
    # And every task moved once: counters, the job's figure, its slices' progress
    counts = w.tasks.counts(w.ref)
    assert counts.by_state[LabelingState.WAITING] == 60 == counts.eligible
    assert ended.result == {"moved": 60} and ended.done == 60
    assert sum(s.done for s in w.db.parts[job.job_id].values()) == 60


def test_a_slice_step_that_runs_twice_at_once_counts_once(w: JobWorld) -> None:
    # Given a disconnect of 40 tasks planned per shard
    w.images("acme/cam/", 40)
    _import(w, prefix="acme/cam/")
    dataset_id = next(iter(w.db.datasets.values())).dataset_id
    _limits(w, slice_tasks=10)
    job = w.dataset_service.disconnect(w.ref, dataset_id)
    planned = w.job_runner.step(w.ref, job.job_id, "")
    assert planned.plan is not None and planned.plan.count == 16
    # When every slice's first step is run twice (the Map's at-least-once children), then
    # the job to its end
    for n in range(16):
        w.loop.slice_once(w.ref, job.job_id, planned.plan, n)
        w.loop.slice_once(w.ref, job.job_id, planned.plan, n)
    ended = w.loop.run_started(w.ref, job.job_id)
    # Then every task went once, counted once in the dataset, the counters and the job
    assert ended.status is JobStatus.SUCCEEDED and ended.result == {"removed": 40}
    assert ended.done == 40 and w.tasks.counts(w.ref).total == 0
    assert all(s.step >= 1 for s in w.db.parts[job.job_id].values())


def test_a_slice_near_the_history_quota_is_handed_back_and_planned_again(w: JobWorld) -> None:
    # Given a move of 12 tasks in one slice of 6 steps, and an artificial history quota of
    # two steps' events
    w.images("acme/cam/", 12)
    _import(w, prefix="acme/cam/")
    _limits(w, history_events=14, move_tasks=2)
    # When it runs
    job = w.task_service.move_all(w.ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING)
    ended = w.loop.run(job)
    # Then the slice's execution ended after two steps each time, the job's next step planned
    # it again from its cursor, and every task moved once
    assert ended.result == {"moved": 12}
    rounds = [a for a in w.loop.steps[job.job_id] if a.plan is not None]
    assert len(rounds) == 4  # steps 1-2, 3-4, 5-6, and the one that finds nothing more
    assert all(a.events <= 14 for a in w.loop.slice_steps[job.job_id])


def _legacy_project(w: JobWorld, n: int) -> None:
    """A project of `n` tasks in one partition: moving them to shards is a one-step loop."""
    w.images("acme/cam/", n)
    _import(w, prefix="acme/cam/")
    w.db.sharding[w.ref] = Sharding(None)


def test_a_loop_job_hands_over_to_fresh_executions_before_the_history_quota(
    w: JobWorld,
) -> None:
    # Given a job kind that is a one-step loop (a reshard of 24 tasks, 5 a step: 5 steps) and
    # an artificial history quota of three steps' events
    _legacy_project(w, 24)
    _limits(w, history_events=21, move_tasks=5)
    job = w.reshard_service.start(w.ref)
    # When it runs
    ended = w.loop.run(job)
    # Then each execution did two steps, and at its third handed over to the next, named
    # after the job; the job's item names the last; the job ended having moved every task
    # once
    names = w.loop.executions[job.job_id]
    assert names == [job.job_id, *(f"{job.job_id}-{n}" for n in range(1, len(names)))]
    assert len(names) == 3
    assert ended.kind is JobKind.RESHARD and ended.result == {"moved": 24}
    assert ended.execution_arn == f"arn:exec:{names[-1]}"
    assert sum(a.handed_over for a in w.loop.steps[job.job_id]) == len(names) - 1


def test_reads_and_stops_find_the_execution_a_job_handed_over_to(w: JobWorld) -> None:
    # Given a one-step-loop job whose step runs in an execution near the quota
    _legacy_project(w, 24)
    _limits(w, history_events=14, move_tasks=5)
    job = w.reshard_service.start(w.ref)
    first = w.job_runner.step(w.ref, job.job_id, "", Execution(job.job_id, 10))
    # Then that step handed over instead: a fresh execution goes on from the same cursor, the
    # job's item names it, and the old execution's end is nothing to the job
    assert first.handed_over and not first.done
    name, payload = w.job_orchestrator.started[-1]
    assert name == f"{job.job_id}-1"
    assert payload["step"] == {  # type: ignore[index]
        "done": False,
        "cursor": first.cursor,
        "failure": None,
        "plan": None,
        "handedOver": False,
        "events": 0,
    }
    w.job_orchestrator.states[str(job.execution_arn)] = "SUCCEEDED"
    handed = w.job_service.get(w.ref, job.job_id)
    assert handed.running and handed.execution_arn == f"arn:exec:{name}"
    # When the job is stopped (as a disconnect stops an import)
    w.job_service.fail(handed, "stopped")
    # Then the execution stopped is the one that goes on
    assert w.job_orchestrator.stopped == [f"arn:exec:{name}"]
    assert w.jobs.get(w.ref, job.job_id).status is JobStatus.FAILED


def test_execution_names_count_up_from_the_job_id() -> None:
    # Given a job's first execution and its followers; When the next name is asked for
    # Then it counts up, whatever the job id holds
    assert next_execution_name("job_1", "job_1") == "job_1-1"
    assert next_execution_name("job_1", "job_1-1") == "job_1-2"
    assert next_execution_name("job_1", "job_1-9") == "job_1-10"
    assert next_execution_name("job-2", "job-2") == "job-2-1"
