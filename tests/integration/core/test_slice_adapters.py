"""The adapters sliced jobs use, on moto's S3 and Step Functions and DynamoDB Local: splicing a
file from parts (S3's 5 MiB part rule enforced by moto), listings by folder and from a key,
manifest lines from a byte offset, slice records committed once, slice progress in the tasks'
own transactions, reads of one part of a project's tasks, and a hand-over started twice."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from prelabel.adapters import s3_splice
from prelabel.adapters.dynamodb.keys import shard_index
from prelabel.adapters.s3_datasets import S3DatasetObjects
from prelabel.adapters.s3_export_files import S3ExportFiles
from prelabel.container import Container
from prelabel.domain.entities import (
    Dataset,
    DatasetStatus,
    LabelingState,
    Project,
    ProjectRef,
    Task,
)
from prelabel.domain.ids import now_iso
from prelabel.domain.jobs import JobKind, JobStatus
from prelabel.domain.slices import SliceState
from prelabel.ports.jobs import JobEnd
from prelabel.ports.objects import Span
from prelabel.ports.tasks import IdRange, Move, TaskSpan
from prelabel.services.jobs.service import new_job

MIB = 1024 * 1024


@pytest.fixture
def s3() -> Any:
    return boto3.client("s3")


def test_a_file_spliced_from_parts_is_them_joined_and_large_spans_are_copied(
    ports: Container, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given stored parts of 12 MiB, 3 MiB and 7 MiB, and bytes made now between them
    bucket = ports.settings.data_bucket
    sizes = (12 * MIB, 3 * MIB, 7 * MIB)
    parts = {f"jobs/p/{n}": os.urandom(size) for n, size in enumerate(sizes)}
    for key, body in parts.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    copied: list[str] = []
    copy = s3_splice.Splice._copy_part

    def counted(self: s3_splice.Splice, number: int, key: str, start: int, end: int) -> Any:
        copied.append(f"{key}[{start}:{end}]")
        return copy(self, number, key, start, end)

    monkeypatch.setattr(s3_splice.Splice, "_copy_part", counted)
    pieces = [
        b"head",
        Span("jobs/p/0", 0, 12 * MIB),
        b",",
        Span("jobs/p/1", 1, 3 * MIB),
        Span("jobs/p/2", 0, 7 * MIB),
        b"tail",
    ]
    # When the file is spliced (moto refuses parts under 5 MiB but the last)
    files = S3ExportFiles(lambda: boto3.client("s3"), bucket)
    size = files.splice("exports/acme/p/out.json", "application/json", pieces)
    # Then it is the pieces joined
    want = b"head" + parts["jobs/p/0"] + b"," + parts["jobs/p/1"][1:] + parts["jobs/p/2"] + b"tail"
    got = s3.get_object(Bucket=bucket, Key="exports/acme/p/out.json")
    assert got["Body"].read() == want and size == len(want)
    assert got["ContentType"] == "application/json"
    # And what could stand as a part was copied, not read: the 12 MiB span but the bytes read
    # to make "head" a part of 5 MiB, the 7 MiB one but the 2 MiB read to make "," and the
    # 3 MiB span a part of 5 MiB; "tail" is the last part, which may be small
    copies = [f"jobs/p/0[{5 * MIB - 4}:{12 * MIB}]", f"jobs/p/2[{2 * MIB}:{7 * MIB}]"]
    assert copied == copies
    head = s3.head_object(Bucket=bucket, Key="exports/acme/p/out.json", PartNumber=1)
    assert head["PartsCount"] == 5
    # And the parts go once spliced
    files.remove(parts)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="jobs/p/")


def test_folders_list_once_and_a_listing_starts_after_a_key(ports: Container, s3: Any) -> None:
    # Given objects right under a prefix and in two folders
    bucket = ports.settings.data_bucket
    for key in ("acme/r/a.jpg", "acme/r/x/1.jpg", "acme/r/x/2.jpg", "acme/r/y/z/3.jpg"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    objects = S3DatasetObjects(lambda: boto3.client("s3"))
    # When it is listed by folder, and from after a key
    level = objects.list_page(bucket, "acme/r/", None, 100, delimiter="/")
    after = objects.list_page(bucket, "acme/r/", None, 100, start_after="acme/r/x/1.jpg")
    # Then the folders come once each, the objects right under it as objects
    assert level.folders == ["acme/r/x/", "acme/r/y/"]
    assert [o.key for o in level.objects] == ["acme/r/a.jpg"]
    assert [o.key for o in after.objects] == ["acme/r/x/2.jpg", "acme/r/y/z/3.jpg"]


def test_a_manifest_slice_starts_at_a_whole_line_and_stops_before_its_end(
    ports: Container, s3: Any
) -> None:
    # Given a manifest of 10 lines of 10 bytes
    bucket = ports.settings.data_bucket
    body = b"".join(f"line-{i:04d}\n".encode() for i in range(10))
    s3.put_object(Bucket=bucket, Key="acme/m.txt", Body=body)
    objects = S3DatasetObjects(lambda: boto3.client("s3"))
    # When a slice of bytes [25, 55) finds its first line and reads its lines
    start = objects.line_start(bucket, "acme/m.txt", 25)
    read = objects.read_lines(bucket, "acme/m.txt", start, 100, end=55)
    # Then it reads the lines starting in it (at 30, 40 and 50), whole
    assert start == 30
    assert read.lines == [b"line-0003", b"line-0004", b"line-0005"] and read.position == 60
    # And a cut at a line's start begins there; one past the last line at the end
    assert objects.line_start(bucket, "acme/m.txt", 40) == 40
    assert objects.line_start(bucket, "acme/m.txt", 95) == 100
    assert objects.size(bucket, "acme/m.txt") == 100


@pytest.fixture
def job(ports: Container) -> Any:
    ref = ProjectRef("acme", "prj_s")
    made = new_job(ref, JobKind.MOVE, {"from": "BACKLOG", "to": "WAITING"}, total=40)
    ports.jobs.create(made)
    return made


def test_a_slice_step_commits_once_and_the_job_sums_its_slices(ports: Container, job: Any) -> None:
    # Given a job planned into two slices (a second plan of the same phase is not stored)
    ref, jobs = job.project, ports.jobs
    assert jobs.save_plan(ref, job.job_id, 0, [{"part": 0}, {"part": 1}]) == [
        {"part": 0},
        {"part": 1},
    ]
    assert jobs.save_plan(ref, job.job_id, 0, [{"part": 9}]) == [{"part": 0}, {"part": 1}]
    # When slice 0's first step commits twice (the second finds it committed), slice 1's once
    first = SliceState({"part": 0}, {"after": "t_5"}, 1, False, None, {}, 0)
    assert jobs.advance_slice(ref, job.job_id, (0, 0), first, 5)
    assert not jobs.advance_slice(ref, job.job_id, (0, 0), first, 5)
    other = SliceState({"part": 1}, {}, 1, True, None, {"n": 1}, 0)
    assert jobs.advance_slice(ref, job.job_id, (0, 1), other, 7)
    # Then each record holds its step, cursor and progress, and the job's progress is theirs
    states = jobs.slice_states(job.job_id, 0)
    assert (states[0].step, states[0].cursor, states[0].done) == (1, {"after": "t_5"}, 5)
    assert (states[1].finished, states[1].output, states[1].done) == (True, {"n": 1}, 7)
    assert jobs.get(ref, job.job_id).done == 12
    # And a step out of turn is refused
    skipped = SliceState({"part": 0}, {}, 3, False, None, {}, 0)
    assert not jobs.advance_slice(ref, job.job_id, (0, 0), skipped, 1)
    # And when the job ends its figure stays, folded into its item
    jobs.finish(ref, job.job_id, JobEnd(JobStatus.SUCCEEDED, None, {"moved": 12}, now_iso()))
    ended = jobs.get(ref, job.job_id)
    assert (ended.status, ended.done) == (JobStatus.SUCCEEDED, 12)


def test_moves_and_deletions_add_to_their_slice_in_their_own_transactions(
    ports: Container, job: Any
) -> None:
    # Given 40 BACKLOG tasks of a sharded project, in a dataset the job owns
    ref = job.project
    ports.projects.create(Project(ref, "P", ()))
    ports.datasets.create(
        Dataset(ref, "ds_1", "b", "acme/", 0, "now", DatasetStatus.IMPORTING, job_id=job.job_id)
    )
    tasks = [Task(ref, f"t_{i:04x}", "ds_1", "b", f"acme/{i}.jpg") for i in range(40)]
    ports.tasks.add_dataset_tasks(ref, "ds_1", job.job_id, tasks)
    shards = ports.tasks.parts(ref)
    part = shard_index("t_0000", shards)
    mine = sorted(t.task_id for t in tasks if shard_index(t.task_id, shards) == part)
    # When one part's BACKLOG tasks are read and moved as slice (0, 3) of the job
    ids = list(ports.tasks.ids_in_state(ref, LabelingState.BACKLOG, IdRange(None, 100, part)))
    move = Move(LabelingState.BACKLOG, LabelingState.WAITING, job.job_id, (0, 3))
    ports.tasks.move(ref, ids, move)
    # Then they were that part's tasks only, and the slice counted them
    assert ids == mine
    assert ports.jobs.get(ref, job.job_id).done == 0  # no plan: the job sums no slice yet
    ports.jobs.save_plan(ref, job.job_id, 0, [{"part": part}])
    assert ports.jobs.get(ref, job.job_id).done == len(mine)
    # When the dataset's tasks of that part are deleted as slice (0, 3)
    removal = ports.tasks.delete_dataset_tasks(ref, "ds_1", job.job_id, 100, part, (0, 3))
    # Then they went, counted by the slice and in the dataset's task_count
    assert removal.removed == len(mine) and not removal.left
    assert ports.jobs.get(ref, job.job_id).done == 2 * len(mine)
    assert ports.datasets.get(ref, "ds_1").task_count == 40 - len(mine)
    # And a span of ids reads the rest of the project's tasks across its shards, in id order
    rest = [
        t.task_id for t in ports.tasks.tasks_in_span(ref, TaskSpan("t_0010", "t_0020"), labels=True)
    ]
    assert rest == sorted(t for t in (f"t_{i:04x}" for i in range(16, 32)) if t not in mine)


def test_a_hand_over_started_again_answers_the_same_execution(ports: Container) -> None:
    # Given an execution of the jobs machine started under a name
    orchestrator = ports.job_orchestrator
    payload = {"job": {"orgId": "o", "projectId": "p", "jobId": "job_x"}, "step": {}}
    first = orchestrator.start("job_x-1", payload)
    # When it is started again (a retried hand-over)
    again = orchestrator.start("job_x-1", payload)
    # Then the answer is that execution
    assert again == first
