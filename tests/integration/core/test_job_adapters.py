"""The S3 and DynamoDB adapters jobs use, on moto's S3 and DynamoDB Local: manifest slices by
byte range and from gzip, listing pages, multipart export files, transactions that meet
another on the counters item."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import boto3
import pytest

from prelabel.adapters import s3_datasets, s3_export_files
from prelabel.adapters.dynamodb.transact import Transaction
from prelabel.adapters.s3_datasets import S3DatasetObjects
from prelabel.adapters.s3_export_files import S3ExportFiles
from prelabel.container import Container
from prelabel.domain.entities import Dataset, DatasetStatus, LabelingState, ProjectRef, Task
from prelabel.domain.errors import Busy, InvalidInput
from prelabel.domain.imports import ObjectRef
from prelabel.ports.orchestration import ExecutionGone


@pytest.fixture
def objects(ports: Container) -> S3DatasetObjects:
    return S3DatasetObjects(lambda: boto3.client("s3"))


def _lines(objects: S3DatasetObjects, bucket: str, key: str, per_slice: int) -> Iterator[bytes]:
    position, at_end = 0, False
    while not at_end:
        read = objects.read_lines(bucket, key, position, per_slice)
        yield from read.lines
        position, at_end = read.position, read.at_end


@pytest.mark.parametrize("gz", [False, True])
def test_manifest_slices_read_every_line_once_across_ranges(
    ports: Container, objects: S3DatasetObjects, monkeypatch: pytest.MonkeyPatch, gz: bool
) -> None:
    # Given a manifest of 1,000 lines (CRLF, no newline at the end), read in 64-byte ranges,
    # plain or gzip of two members
    monkeypatch.setattr(s3_datasets, "RANGE_BYTES", 64)
    lines = [f'{{"source-ref": "s3://b/k/{i:04d}.jpg"}}'.encode() for i in range(1000)]
    body = b"\r\n".join(lines)
    if gz:
        body = gzip.compress(body[:20_000]) + gzip.compress(body[20_000:])
    key = "acme/m.manifest" + (".gz" if gz else "")
    boto3.client("s3").put_object(Bucket=ports.settings.data_bucket, Key=key, Body=body)
    # When it is read 7 lines a slice, each slice from where the last one stopped
    read = list(_lines(objects, ports.settings.data_bucket, key, 7))
    # Then every line comes once, whole, in order
    assert read == lines


def test_a_line_longer_than_a_range_and_a_missing_manifest_are_refused(
    ports: Container, objects: S3DatasetObjects, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a manifest whose second line is longer than a range
    monkeypatch.setattr(s3_datasets, "RANGE_BYTES", 64)
    bucket = ports.settings.data_bucket
    boto3.client("s3").put_object(Bucket=bucket, Key="acme/m", Body=b"a\n" + b"x" * 100 + b"\nb")
    # When it is read; Then the first line comes, then the long one is refused naming the byte
    assert objects.read_lines(bucket, "acme/m", 0, 10).lines == [b"a"]
    with pytest.raises(InvalidInput, match="at byte 2 is longer than 64 bytes"):
        objects.read_lines(bucket, "acme/m", 2, 10)
    # And a manifest that is not there names the field
    with pytest.raises(InvalidInput) as err:
        objects.read_lines(bucket, "acme/absent", 0, 10)
    assert err.value.field == "manifest_key"


def test_listing_pages_follow_their_token_and_a_missing_bucket_is_refused(
    ports: Container, objects: S3DatasetObjects
) -> None:
    # Given 7 objects under a prefix
    bucket = ports.settings.data_bucket
    for i in range(7):
        boto3.client("s3").put_object(Bucket=bucket, Key=f"acme/l/{i}.jpg", Body=b"x" * i)
    # When they are listed 3 a page
    seen: list[ObjectRef] = []
    token = None
    for _ in range(4):
        page = objects.list_page(bucket, "acme/l/", token, 3)
        seen += page.objects
        token = page.next_token
        if token is None:
            break
    # Then every object comes once, with its size, and the last page has no token
    assert seen == [ObjectRef(bucket, f"acme/l/{i}.jpg", i) for i in range(7)]
    # And a bucket that does not exist is refused naming the bucket
    with pytest.raises(InvalidInput, match="s3://no-such-bucket-here cannot be listed"):
        objects.list_page("no-such-bucket-here", "", None, 3)


def test_export_files_upload_in_parts_and_leave_nothing_when_they_fail(
    ports: Container,
) -> None:
    # Given the export files of the data bucket
    bucket = ports.settings.data_bucket
    files = S3ExportFiles(lambda: boto3.client("s3"), bucket)
    s3 = boto3.client("s3")
    # When 17 MiB are written in 1 MiB pieces, and a small file
    piece = bytes(range(256)) * 4096
    with files.open("exports/acme/p/big.zip", "application/zip") as sink:
        for _ in range(17):
            sink.write(piece)
    with files.open("exports/acme/p/small.json", "application/json") as sink:
        sink.write(b"{}")
    # Then the big one went up in 8 MiB parts (three) and reads back whole, the small one
    # as one object, each with its type
    big = s3.head_object(Bucket=bucket, Key="exports/acme/p/big.zip", PartNumber=1)
    assert big["PartsCount"] == 3 and big["ContentLength"] == s3_export_files.PART_BYTES
    body = s3.get_object(Bucket=bucket, Key="exports/acme/p/big.zip")
    assert body["Body"].read() == piece * 17
    assert body["ContentType"] == "application/zip"
    assert s3.get_object(Bucket=bucket, Key="exports/acme/p/small.json")["Body"].read() == b"{}"

    # When a writer fails after its first part
    def failing_export() -> None:
        with files.open("exports/acme/p/failed.zip", "x") as sink:
            for _ in range(9):
                sink.write(piece)
            raise RuntimeError("the export broke")

    with pytest.raises(RuntimeError, match="the export broke"):
        failing_export()
    # Then no file exists and no upload is left open
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert "exports/acme/p/failed.zip" not in keys
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_task_writes_that_meet_another_on_the_counters_are_tried_again(
    ports: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dataset owned by a job, and a transaction that meets another once
    ref = ProjectRef("acme", "prj_1")
    ports.datasets.create(
        Dataset(ref, "ds_1", "b", "acme/", 0, "now", DatasetStatus.IMPORTING, job_id="job_1")
    )
    commit = Transaction.commit
    met: list[str] = []

    def meets_once(self: Transaction, what: str) -> list[tuple[str, str]]:
        if not met:
            met.append(what)
            raise Busy(f"{what}: a concurrent transaction held an item; try again")
        return commit(self, what)

    monkeypatch.setattr(Transaction, "commit", meets_once)
    # When tasks are added
    tasks = [Task(ref, f"t_{i}", "ds_1", "b", f"acme/{i}.jpg") for i in range(5)]
    added = ports.tasks.add_dataset_tasks(ref, "ds_1", "job_1", tasks)
    # Then the write went through on the next try, counted once
    assert met == ["create tasks"] and added == 5
    assert ports.tasks.counts(ref).by_state[LabelingState.BACKLOG] == 5
    assert ports.datasets.get(ref, "ds_1").task_count == 5


def test_an_execution_the_engine_does_not_know_is_gone(ports: Container) -> None:
    # Given the jobs state machine, and the ARN of an execution it never ran (as after a local
    # stack restarted)
    arn = ports.settings.jobs_state_machine_arn.replace(":stateMachine:", ":execution:")
    # When its status is read
    # Then the orchestrator says it is gone (a job read then ends the job), not a storage error
    with pytest.raises(ExecutionGone):
        ports.job_orchestrator.status(f"{arn}:job_never_started")
