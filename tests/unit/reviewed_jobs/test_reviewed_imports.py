"""Importing reviewed labels as a job over the fakes: a file uploaded with a signed POST, read
once into slices, matched by key (and by file name through the name pass), stored apart from
pre-labels; re-imports replace, duplicates and crashed steps write nothing twice."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Sequence
from io import BytesIO

import pytest

from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import Box, ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.imports import ManifestFormat
from prelabel.domain.jobs import JobStatus, ProgressUnit
from prelabel.domain.locations import LocationRefused
from prelabel.domain.reviewed_labels import ReviewWrite, StoredBox, TaskReview
from prelabel.domain.reviewed_uploads import work_prefix
from prelabel.reviewed import ReviewFormat
from prelabel.services.reviewed_imports import MAX_UPLOAD_BYTES, ImportRequest
from tests.unit.fakes.reviewed import MemoryReviewedFiles, MemoryReviewedLabels
from tests.unit.reviewed_jobs.conftest import BUCKET, CAR_BOX, ORG, ReviewWorld, coco, with_limits


def test_an_upload_is_a_signed_post_for_one_key_under_the_organizations_folder(
    rw: ReviewWorld,
) -> None:
    # Given a project
    rw.make_project(high=1)
    # When an upload is asked for a file name with path parts and odd characters
    ticket = rw.reviewed_import_service.upload(rw.ref, "../../other-org/labels (final).json")
    # Then the key lies under acme/reviewed/<project>/<upload id>/ with the name made safe
    prefix = f"{ORG}/reviewed/{rw.ref.project_id}/upl_"
    assert ticket.key.startswith(prefix) and ticket.key.endswith("/labels_final_.json")
    assert ticket.key.count("/") == 4 and ".." not in ticket.key
    # And the policy allows that key only, up to the reader's 256 MiB, for 15 minutes
    assert (ticket.bucket, ticket.max_bytes, ticket.expires_in) == (BUCKET, MAX_UPLOAD_BYTES, 900)
    policy = json.loads(base64.b64decode(ticket.fields["policy"]))
    assert ["content-length-range", 1, 256 * 1024 * 1024] in policy["conditions"]
    assert {"key": ticket.key} in policy["conditions"]
    # And a name with nothing usable is refused naming the field
    with pytest.raises(InvalidInput) as refused:
        rw.reviewed_import_service.upload(rw.ref, "/../")
    assert refused.value.field == "file_name"


def test_an_import_matches_by_key_stores_labels_apart_and_reports_what_it_left(
    rw: ReviewWorld,
) -> None:
    # Given 3 pre-labeled images
    rw.make_project(high=3)
    rw.prelabel()
    prelabels_before = dict(rw.db.prelabels)
    a, b, c = (s.key for s in rw.shots)
    # And a COCO file: a's car moved, b's car relabelled Person and a Tree box, c with no
    # object, and an image of no task
    moved = (12.0, 11.0, 52.0, 41.0)
    data = coco(
        [
            (a, 128, 96, [("Vehicle", moved)]),
            (b, 128, 96, [("Person", CAR_BOX), ("Tree", (1.0, 1.0, 9.0, 9.0))]),
            (c, 128, 96, []),
            (f"{ORG}/cam/gone.jpg", 128, 96, [("Vehicle", moved)]),
        ]
    )
    # When it is uploaded and imported (format told from the file)
    job = rw.import_file("review.json", data)
    # Then the job succeeded with the report in its result
    assert job.status is JobStatus.SUCCEEDED, job.error
    r = job.result
    assert (r["format"], r["images_found"], r["images_matched"]) == ("coco", 4, 3)
    assert (r["boxes_found"], r["boxes_kept"], r["boxes_dropped"]) == (4, 2, 2)
    findings = r["report"]["findings"]
    assert findings["unmatched_image"]["count"] == 1
    assert findings["unmatched_image"]["examples"] == [f"{ORG}/cam/gone.jpg"]
    assert findings["unknown_label"]["count"] == 1
    assert "no bbox entry" in findings["unknown_label"]["description"]
    assert r["report"]["unknown_labels"] == {"Tree": {"count": 1, "examples": [b]}}
    assert (job.done, job.total, job.unit) == (4, 4, ProgressUnit.IMAGES)
    # And each matched task has its reviewed labels, with the job and the format
    stored = rw.reviewed.get_many(rw.ref, [rw.task_of(k) for k in (a, b, c)])
    boxes = {k: stored[rw.task_of(k)].boxes for k in (a, b, c)}
    assert boxes == {
        a: (StoredBox("veh", "Vehicle", Box(*moved)),),
        b: (StoredBox("per", "Person", Box(*CAR_BOX)),),
        c: (),
    }
    assert {(s.job_id, s.format, s.dropped) for s in stored.values()} == {
        (job.job_id, "coco", 0),
        (job.job_id, "coco", 1),
    }
    # And pre-labels are untouched; the count says 3 tasks; the working files are gone
    assert rw.db.prelabels == prelabels_before
    assert rw.reviewed.count(rw.ref).tasks == 3
    assert rw.files.names(work_prefix(rw.ref, job.job_id)) == []


def test_reimporting_replaces_a_tasks_reviewed_labels(rw: ReviewWorld) -> None:
    # Given a first import with two boxes on a and none on b
    rw.make_project(high=2)
    a, b = (s.key for s in rw.shots)
    first = rw.import_file(
        "one.json",
        coco([(a, 128, 96, [("Vehicle", CAR_BOX), ("Person", CAR_BOX)]), (b, 128, 96, [])]),
    )
    # When a second file brings one box for a and one for b
    second = rw.import_file(
        "two.json",
        coco([(a, 128, 96, [("Person", CAR_BOX)]), (b, 128, 96, [("Vehicle", CAR_BOX)])]),
    )
    # Then each task holds the second file's labels only, from the second job
    assert first.status is second.status is JobStatus.SUCCEEDED
    stored = rw.reviewed.get_many(rw.ref, [rw.task_of(a), rw.task_of(b)])
    assert [s.entry_id for s in stored[rw.task_of(a)].boxes] == ["per"]
    assert [s.entry_id for s in stored[rw.task_of(b)].boxes] == ["veh"]
    assert {s.job_id for s in stored.values()} == {second.job_id}
    # And the count holds 2 tasks written 4 times
    count = rw.reviewed.count(rw.ref)
    assert (count.tasks, count.changes) == (2, 4)


def test_file_names_are_matched_through_the_name_pass_in_bounded_steps(rw: ReviewWorld) -> None:
    # Given 6 images in two folders (img_000 ... img_005; names unique) and one more image
    # whose file name is shared by both folders; 2 images a slice, 3 tasks read a name step
    twins = [f"{ORG}/cam/twin.jpg", f"{ORG}/yard/twin.jpg"]
    rw.make_project(high=6, folders=("cam", "yard"), extra_keys=twins)
    with_limits(rw, part_images=2, name_scan_tasks=3)
    # And a VOC-like COCO of file names only (CVAT's VOC keeps no folder)
    names = [s.key.rsplit("/", 1)[1] for s in rw.shots]
    data = coco([(n, 128, 96, [("Vehicle", CAR_BOX)]) for n in names] + [("twin.jpg", 128, 96, [])])
    # When it is imported
    job = rw.import_file("names.json", data)
    # Then every uniquely named image matched its task by file name, the twin is ambiguous
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert (job.result["images_found"], job.result["images_matched"]) == (7, 6)
    assert job.result["report"]["findings"]["ambiguous_image"]["examples"] == ["twin.jpg"]
    for shot in rw.shots:
        assert rw.reviewed.get_many(rw.ref, [rw.task_of(shot.key)]), shot.key
    # And it took 4 key slices, 3 name steps (8 tasks, 3 a step) and 4 file-name slices
    phases = [json.loads(s.cursor).get("phase") for s in rw.loop.steps[job.job_id]]
    assert phases.count("names") == 3 and phases.count("later") == 4, phases


def test_an_image_given_twice_is_a_duplicate_even_in_another_slice(rw: ReviewWorld) -> None:
    # Given one image listed twice in a file (one image a slice), first with a car
    rw.make_project(high=1)
    with_limits(rw, part_images=1)
    key = rw.shots[0].key
    data = coco([(key, 128, 96, [("Vehicle", CAR_BOX)]), (key, 128, 96, [("Person", CAR_BOX)])])
    # When the file is imported
    job = rw.import_file("twice.json", data)
    # Then the first is stored, the second reported as a duplicate with its box not imported
    assert (job.result["images_matched"], job.result["boxes_kept"]) == (1, 1)
    findings = job.result["report"]["findings"]
    assert findings["duplicate_image"] == {
        "count": 1,
        "examples": [key],
        "description": "another image of the file was already matched to that task",
        "unit": "image",
        "dropped": True,
    }
    assert findings["image_not_imported"]["count"] == 1
    (stored,) = rw.reviewed.get_many(rw.ref, [rw.task_of(key)]).values()
    assert [b.entry_id for b in stored.boxes] == ["veh"]
    assert job.result["boxes_found"] == job.result["boxes_kept"] + job.result["boxes_dropped"]


class DisconnectedBeforeWriting(MemoryReviewedLabels):
    """A disconnect that removes one task after the import matched it, before it writes."""

    def __init__(self, inner: MemoryReviewedLabels, task_id: str) -> None:
        super().__init__(inner.db, inner.rdb)
        self.task_id = task_id

    def put(self, ref: ProjectRef, reviews: Sequence[TaskReview]) -> ReviewWrite:
        self.db.tasks.pop((ref, self.task_id), None)
        return super().put(ref, reviews)


def test_an_image_whose_task_was_removed_meanwhile_is_reported_and_nothing_is_stored(
    rw: ReviewWorld,
) -> None:
    # Given 3 images, and a disconnect that removes the second's task once the import has
    # matched it
    rw.make_project(high=3)
    a, b, c = (s.key for s in rw.shots)
    removed = rw.task_of(b)
    rw.review_ports.reviewed = DisconnectedBeforeWriting(rw.reviewed, removed)
    data = coco([(k, 128, 96, [("Vehicle", CAR_BOX)]) for k in (a, b, c)])
    # When the file is imported
    job = rw.import_file("review.json", data)
    # Then the job succeeds, the removed task's image reported with its box not imported
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert (job.result["images_matched"], job.result["boxes_kept"]) == (2, 2)
    findings = job.result["report"]["findings"]
    assert findings["task_removed"]["count"] == 1
    assert findings["task_removed"]["examples"] == [b]
    assert findings["image_not_imported"]["count"] == 1
    # And no reviewed labels outlive the task; the counts say 2 tasks
    assert rw.reviewed.get_many(rw.ref, [removed]) == {}
    count = rw.reviewed.count(rw.ref)
    assert (count.tasks, count.changes) == (2, 2)


class CrashAfterWriting(MemoryReviewedFiles):
    """Dies once, right after a slice's labels are stored (at the slice report's write)."""

    crashed = False

    def put(self, key: str, data: bytes) -> None:
        if "report-000002" in key and not self.crashed:
            self.crashed = True
            raise RuntimeError("the step's Lambda died")
        super().put(key, data)


def test_a_step_that_crashed_after_storing_its_slice_runs_again_without_writing_twice(
    rw: ReviewWorld,
) -> None:
    # Given 4 images, 2 a slice, and working files that die once after slice 2 is stored
    rw.make_project(high=4)
    crashing = CrashAfterWriting(rw.objects, BUCKET)
    rw.review_ports.files = crashing
    with_limits(rw, part_images=2)
    data = coco([(s.key, 128, 96, [("Vehicle", CAR_BOX)]) for s in rw.shots])
    # When the file is imported
    job = rw.import_file("crash.json", data)
    # Then the step was retried and the job ends as a clean one would
    assert crashing.crashed and job.status is JobStatus.SUCCEEDED
    assert (job.result["images_matched"], job.result["boxes_kept"]) == (4, 4)
    assert "duplicate_image" not in job.result["report"]["findings"]
    # And the retry wrote nothing again: 4 tasks, 4 writes, the rerun's put wrote none
    count = rw.reviewed.count(rw.ref)
    assert (count.tasks, count.changes) == (4, 4)
    assert rw.rdb.puts == [
        [rw.task_of(rw.shots[0].key), rw.task_of(rw.shots[1].key)],
        [rw.task_of(rw.shots[2].key), rw.task_of(rw.shots[3].key)],
        [],
    ]


def test_a_file_of_no_known_format_fails_the_job_naming_the_format(rw: ReviewWorld) -> None:
    # Given a file that is neither JSON nor a zip
    rw.make_project(high=1)
    # When it is imported without a format
    job = rw.import_file("notes.txt", b"just some notes")
    # Then the job failed saying the format could not be told, and nothing was stored
    assert job.status is JobStatus.FAILED
    assert job.error is not None and "format:" in job.error and "name its format" in job.error
    assert rw.reviewed.count(rw.ref).tasks == 0
    # And its working files went with it
    assert work_prefix(rw.ref, job.job_id) in rw.files.deleted


def test_a_voc_zip_named_as_such_is_read_and_matched_by_its_source(rw: ReviewWorld) -> None:
    # Given a Pascal VOC zip whose file names the image by its s3:// URI
    rw.make_project(high=1)
    key = rw.shots[0].key
    xml = (
        "<annotation><filename>img_000.jpg</filename>"
        f"<source><image>s3://{BUCKET}/{key}</image></source>"
        "<size><width>128</width><height>96</height><depth>3</depth></size>"
        "<object><name>Vehicle</name><bndbox><xmin>10</xmin><ymin>10</ymin>"
        "<xmax>50</xmax><ymax>40</ymax></bndbox></object></annotation>"
    )
    sink = BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("Annotations/img_000.xml", xml)
    # When it is imported as voc
    job = rw.import_file("voc.zip", sink.getvalue(), format=ReviewFormat.VOC)
    # Then the task has the car
    assert job.status is JobStatus.SUCCEEDED, job.error
    (stored,) = rw.reviewed.get_many(rw.ref, [rw.task_of(key)]).values()
    assert stored.boxes == (StoredBox("veh", "Vehicle", Box(*CAR_BOX)),)
    assert stored.format == "voc"


def test_a_file_outside_the_organizations_locations_is_refused_before_any_job(
    rw: ReviewWorld,
) -> None:
    # Given another organization's file in the data bucket
    rw.make_project(high=1)
    rw.objects.put(BUCKET, "other/reviewed/x.json", coco([]))
    started = len(rw.job_orchestrator.started)
    # When an import names it, or a spelling that leads there
    for key in ("other/reviewed/x.json", f"{ORG}/../other/reviewed/x.json"):
        with pytest.raises((LocationRefused, InvalidInput)):
            rw.reviewed_import_service.start(rw.locs, rw.ref, ImportRequest(key))
    # Then no job was started
    assert len(rw.job_orchestrator.started) == started


def test_the_same_request_while_it_runs_answers_with_its_job_another_file_waits(
    rw: ReviewWorld,
) -> None:
    # Given an import started (not run yet)
    rw.make_project(high=1)
    key = rw.upload("a.json", coco([]))
    other = rw.upload("b.json", coco([]))
    first = rw.reviewed_import_service.start(rw.locs, rw.ref, ImportRequest(key))
    # When the same request comes again, and then one for another file
    again = rw.reviewed_import_service.start(rw.locs, rw.ref, ImportRequest(key))
    # Then the first answers with the running job, the second is refused naming it
    assert again.job_id == first.job_id
    with pytest.raises(Conflict, match=first.job_id):
        rw.reviewed_import_service.start(rw.locs, rw.ref, ImportRequest(other))


def test_images_of_a_manifest_dataset_are_found_in_any_bucket_of_the_organization(
    rw: ReviewWorld,
) -> None:
    # Given a project whose images came from a Ground Truth manifest (not a prefix)
    rw.make_project(high=0, folders=())
    keys = [f"{ORG}/elsewhere/m_{i}.jpg" for i in range(3)]
    for key in keys:
        rw.objects.put(BUCKET, key, b"jpeg")
    lines = "".join(json.dumps({"source-ref": f"s3://{BUCKET}/{k}"}) + "\n" for k in keys)
    rw.objects.put(BUCKET, f"{ORG}/manifest.jsonl", lines.encode())
    _, job = rw.dataset_service.connect(
        rw.locs,
        rw.ref,
        DatasetSource(
            BUCKET,
            manifest_key=f"{ORG}/manifest.jsonl",
            manifest_format=ManifestFormat.GROUND_TRUTH,
        ),
    )
    assert rw.loop.run(job).status is JobStatus.SUCCEEDED
    # When a file names two of them by s3:// URI and one by its key alone
    data = coco(
        [
            (f"s3://{BUCKET}/{keys[0]}", 128, 96, [("Vehicle", CAR_BOX)]),
            (f"s3://{BUCKET}/{keys[1]}", 128, 96, []),
            (keys[2], 128, 96, [("Person", CAR_BOX)]),
        ]
    )
    imported = rw.import_file("manifest-review.json", data)
    # Then all three are matched to their tasks by key, with no file-name pass
    assert imported.result["images_matched"] == 3, imported.result
    assert len(rw.reviewed.get_many(rw.ref, [rw.task_of(k) for k in keys])) == 3
    phases = [json.loads(s.cursor).get("phase") for s in rw.loop.steps[imported.job_id]]
    assert "names" not in phases and "later" not in phases, phases
