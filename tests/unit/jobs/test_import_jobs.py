"""Imports as jobs over the fakes: slices of a listing or a manifest become tasks, a crashed
slice runs again without doubling anything, the report says what was skipped and why."""

from __future__ import annotations

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import DatasetStatus, LabelingState, ProjectRef, Task
from prelabel.domain.errors import Conflict
from prelabel.domain.imports import ManifestFormat, SkipReason
from prelabel.domain.jobs import JobStatus, ProgressUnit
from prelabel.domain.locations import DataLocation, LocationRefused
from prelabel.services.jobs import import_step
from tests.unit.fakes.store import MemoryTasks
from tests.unit.jobs.conftest import BUCKET, ORG, SHARED, JobWorld


def _connect(w: JobWorld, **source: str | ManifestFormat) -> str:
    dataset, job = w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, **source))  # type: ignore[arg-type]
    assert dataset.status is DatasetStatus.IMPORTING and job.status is JobStatus.RUNNING
    w.loop.run(job)
    return dataset.dataset_id


def test_a_prefix_import_lists_in_slices_and_reports_every_skip(w: JobWorld) -> None:
    # Given 23 images, a GIF, an SVG, a text file, an empty and an oversized image, and a
    # folder marker, under acme's prefix (listed 5 keys a page, 2 pages a step)
    w.images("acme/cam/", 23)
    for key, body in [
        ("acme/cam/anim.gif", b"GIF89a"),
        ("acme/cam/logo.svg", b"<svg/>"),
        ("acme/cam/notes.txt", b"hello"),
        ("acme/cam/void.png", b""),
        ("acme/cam/huge.tif", b"\0" * (50 * 1024 * 1024 + 1)),
        ("acme/cam/sub/", b""),
    ]:
        w.objects.put(BUCKET, key, body)
    # When the prefix is connected and its import job runs
    ds_id = _connect(w, prefix="acme/cam/")
    dataset, job = w.dataset_service.get(w.ref, ds_id)
    # Then it was planned as two slices, the objects right under the prefix (listed over three
    # steps) and the folder sub/, then merged; the dataset is READY with one task per image
    assert job is not None and len(w.loop.steps[job.job_id]) == 2
    assert len(w.loop.slice_steps[job.job_id]) == 3 + 1
    assert dataset.status is DatasetStatus.READY and dataset.task_count == 24
    assert w.tasks.counts(w.ref).by_state[LabelingState.BACKLOG] == 24
    # And the report counts every skipped file with its reason and example keys
    assert dataset.report is not None
    assert (dataset.report.objects, dataset.report.images) == (28, 24)
    skipped = {r: (t.count, t.examples) for r, t in dataset.report.skipped.items()}
    assert skipped == {
        SkipReason.EMPTY: (1, ("acme/cam/void.png",)),
        SkipReason.TOO_LARGE: (1, ("acme/cam/huge.tif",)),
        SkipReason.UNSUPPORTED_TYPE: (2, ("acme/cam/logo.svg", "acme/cam/notes.txt")),
    }
    # And the job ended with its figures and progress in listed objects
    assert job is not None and job.status is JobStatus.SUCCEEDED
    assert job.result == {"tasks": 24, "objects": 28, "images": 24, "skipped": 4}
    assert (job.done, job.total, job.unit, job.percent) == (29, None, ProgressUnit.OBJECTS, 100.0)


class CrashingTasks(MemoryTasks):
    """Writes the first half of one call's tasks, then dies, as a Lambda killed mid-slice."""

    def __init__(self, w: JobWorld, crash_on_call: int) -> None:
        super().__init__(w.db)
        self.calls = 0
        self.crash_on_call = crash_on_call

    def add_dataset_tasks(
        self, ref: ProjectRef, dataset_id: str, job_id: str, tasks: list[Task]
    ) -> int:  # type: ignore[override]
        self.calls += 1
        if self.calls == self.crash_on_call:
            super().add_dataset_tasks(ref, dataset_id, job_id, tasks[: len(tasks) // 2])
            raise RuntimeError("the slice's Lambda died")
        return super().add_dataset_tasks(ref, dataset_id, job_id, tasks)


def test_a_slice_that_crashed_after_writing_half_runs_again_without_duplicates(
    w: JobWorld,
) -> None:
    # Given 30 images, and a job step that dies in its second slice after half its writes
    w.images("acme/cam/", 30)
    crashing = CrashingTasks(w, crash_on_call=2)
    w.job_runner.context.tasks = crashing
    # When the import runs (the loop retries the slice from the same cursor, as the ASL does)
    ds_id = _connect(w, prefix="acme/cam/")
    # Then every image is one task, counted once in the dataset and in the project
    dataset, job = w.dataset_service.get(w.ref, ds_id)
    assert crashing.calls == 4  # slices 1, 2 (crashed), 2 again, 3
    keys = sorted(t.image_key for t in w.db.tasks.values())
    assert keys == sorted(f"acme/cam/img_{i:05d}.jpg" for i in range(30))
    assert dataset.task_count == 30 == w.tasks.counts(w.ref).total
    assert dataset.report is not None and dataset.report.images == 30
    assert job is not None and job.result["tasks"] == 30


def test_a_ground_truth_manifest_skips_keys_outside_the_locations(w: JobWorld) -> None:
    # Given a grant of share/team/ to acme, and a Ground Truth manifest naming images in
    # acme's folder and the grant, B's folder, a climb out of acme's folder, a bucket nobody
    # granted, a line that names no object, a blank line and a repeated key
    w.orgs.add_grant(ORG, DataLocation(SHARED, "team/"))
    w.locs = w.locations.locations(ORG)
    lines = [f'{{"source-ref": "s3://{BUCKET}/acme/gt/{i}.jpg"}}' for i in range(10)]
    lines += [
        '{"source-ref": "s3://share/team/t.png"}',
        '{"source-ref": "s3://data/org-b/secret.jpg"}',
        '{"source-ref": "s3://data/acme/../org-b/x.jpg"}',
        '{"source-ref": "s3://elsewhere/acme/y.jpg"}',
        '{"source": "a sentence, not an image"}',
        "",
        f'{{"source-ref": "s3://{BUCKET}/acme/gt/0.jpg"}}',
    ]
    w.manifest("acme/manifests/batch.manifest", lines)
    # When it is connected as a manifest and its job runs (7 lines a step)
    ds_id = _connect(
        w, manifest_key="acme/manifests/batch.manifest", manifest_format=ManifestFormat.GROUND_TRUTH
    )
    dataset, job = w.dataset_service.get(w.ref, ds_id)
    # Then the images inside acme's locations are tasks (the repeated key once)
    assert dataset.status is DatasetStatus.READY and dataset.task_count == 11
    assert {t.bucket for t in w.db.tasks.values()} == {BUCKET, SHARED}
    # And the rest is reported: outside the locations, and a line naming no object
    assert dataset.report is not None
    outside = dataset.report.skipped[SkipReason.OUTSIDE_LOCATIONS]
    assert outside.examples == ("org-b/secret.jpg", "acme/../org-b/x.jpg", "acme/y.jpg")
    assert dataset.report.skipped[SkipReason.NOT_AN_OBJECT].examples == (
        '{"source": "a sentence, not an image"}',
    )
    # And it was read in byte ranges of 256 (each slice reading the lines that start in its
    # range), progress in the manifest's bytes adding up to its size
    size = len(w.objects.objects[(BUCKET, "acme/manifests/batch.manifest")])
    assert job is not None and job.unit is ProgressUnit.BYTES
    assert job.done == job.total == size
    assert len(w.db.plans[job.job_id][0]) == -(-size // 256) > 1


@pytest.mark.parametrize("gz", [False, True])
def test_an_inventory_csv_is_read_in_slices_plain_or_gzip(w: JobWorld, gz: bool) -> None:
    # Given an S3 Inventory CSV (URL-encoded keys, sizes), plain or gzip-compressed
    lines = [f'"{BUCKET}","acme/inv/photo+{i}.jpg","{100 + i}"' for i in range(15)]
    lines += [f'"{BUCKET}","acme/inv/empty.jpg","0"', f'"{BUCKET}","acme/inv/a%2Fb.svg","5"']
    key = "acme/inventory/data.csv" + (".gz" if gz else "")
    w.manifest(key, lines, gz=gz)
    # When it is imported
    ds_id = _connect(w, manifest_key=key, manifest_format=ManifestFormat.S3_INVENTORY)
    dataset, job = w.dataset_service.get(w.ref, ds_id)
    # Then each listed image is a task under its decoded key, and the rest is reported
    assert dataset.task_count == 15
    assert "acme/inv/photo 3.jpg" in {t.image_key for t in w.db.tasks.values()}
    assert dataset.report is not None
    assert {r: t.count for r, t in dataset.report.skipped.items()} == {
        SkipReason.EMPTY: 1,
        SkipReason.UNSUPPORTED_TYPE: 1,
    }
    # And a plain CSV was read in byte ranges, a gzip one (which cannot be entered in the
    # middle) in one slice
    assert job is not None and len(w.db.plans[job.job_id][0]) == (1 if gz else 3)


def test_a_dataset_stops_at_its_image_limit(w: JobWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 12 images per dataset, and a prefix holding 15
    monkeypatch.setattr(import_step, "MAX_IMAGES_PER_DATASET", 12)
    w.images("acme/many/", 15)
    # When it is imported
    dataset, _ = w.dataset_service.get(w.ref, _connect(w, prefix="acme/many/"))
    # Then 12 are tasks and the 3 past the limit are reported
    assert dataset.task_count == 12
    assert dataset.report is not None
    assert dataset.report.skipped[SkipReason.OVER_LIMIT].count == 3


def test_a_bucket_that_cannot_be_listed_fails_the_import_with_the_reason(w: JobWorld) -> None:
    # Given acme's grant on a dataset bucket that has been deleted since
    w.orgs.add_grant(ORG, DataLocation(SHARED, ""))
    w.objects.buckets.discard(SHARED)
    # When it is connected
    dataset, job = w.dataset_service.connect(
        w.locations.locations(ORG), w.ref, DatasetSource(SHARED, prefix="")
    )
    ended = w.loop.run(job)
    # Then the job and the dataset end FAILED, saying why
    after, _ = w.dataset_service.get(w.ref, dataset.dataset_id)
    assert ended.status is JobStatus.FAILED and "s3://share cannot be listed" in str(ended.error)
    assert after.status is DatasetStatus.FAILED and after.failure == ended.error


def test_a_grant_revoked_during_an_import_stops_it(w: JobWorld) -> None:
    # Given an import of a granted prefix whose first slice ran
    w.orgs.add_grant(ORG, DataLocation(SHARED, "team/"))
    for i in range(25):
        w.objects.put(SHARED, f"team/{i:02d}.jpg", b"jpeg")
    dataset, job = w.dataset_service.connect(
        w.locations.locations(ORG), w.ref, DatasetSource(SHARED, prefix="team/")
    )
    planned = w.job_runner.step(w.ref, job.job_id, "")
    plan = planned.plan
    assert plan is not None
    first = w.loop.slice_once(w.ref, job.job_id, plan)
    # When the grant is revoked and the slice's next step runs, then the job's next step
    w.orgs.remove_grant(ORG, DataLocation(SHARED, "team/"))
    second = w.loop.slice_once(w.ref, job.job_id, plan)
    merged = w.job_runner.step(w.ref, job.job_id, planned.cursor)
    ended = w.job_finisher.finish(w.ref, job.job_id, merged.failure)
    # Then that step imports nothing more, and the job ends FAILED naming the location
    assert not first.done and second.done and merged.done
    assert ended.status is JobStatus.FAILED and "s3://share/team/" in str(ended.error)
    assert w.dataset_service.get(w.ref, dataset.dataset_id)[0].task_count == 10


def test_connecting_the_same_source_again_answers_with_its_import(w: JobWorld) -> None:
    # Given an import that is still running
    w.images("acme/cam/", 3)
    first, job = w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/"))
    # When the same request comes again; Then it answers with the same dataset and job
    again, same = w.dataset_service.connect(
        w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/")
    )
    assert (again.dataset_id, same.job_id) == (first.dataset_id, job.job_id)
    assert len(w.job_orchestrator.started) == 1
    # And once it has ended, connecting the same source is a conflict, as before
    w.loop.run(job)
    with pytest.raises(Conflict, match="already connected"):
        w.dataset_service.connect(w.locs, w.ref, DatasetSource(BUCKET, prefix="acme/cam/"))


def test_a_manifest_outside_the_locations_is_refused_before_anything_is_written(
    w: JobWorld,
) -> None:
    # Given a manifest in another organization's folder
    w.manifest("org-b/m.jsonl", ['{"source-ref": "s3://data/org-b/a.jpg"}'])
    # When acme connects it; Then 403-refused, and no dataset or job exists
    with pytest.raises(LocationRefused):
        w.dataset_service.connect(
            w.locs,
            w.ref,
            DatasetSource(
                BUCKET, manifest_key="org-b/m.jsonl", manifest_format=ManifestFormat.GROUND_TRUTH
            ),
        )
    assert w.db.datasets == {} and w.db.jobs == {}
