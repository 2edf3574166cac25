"""Review samples as jobs over the fakes: the draw in slices (crashes included), the file for
Label Studio or CVAT, what each class got, and the refusals."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from prelabel.domain.entities import Box, Label, LabelingState, PrelabelState, ProjectRef
from prelabel.domain.errors import Conflict, InvalidInput
from prelabel.domain.jobs import JobKind, JobStatus
from prelabel.export_formats.review_files import ReviewFileFormat
from prelabel.services.jobs.context import StepLimits
from prelabel.services.review_samples import SampleLink
from tests.unit.fakes.store import Prelabel
from tests.unit.fakes.world import BUCKET, World

# Tasks t0000..t0059 pre-labeled: every one with a car, one in six with a person too.
N = 60


def _label(entry_id: str, cls: str, i: int) -> Label:
    name = {"veh": "Vehicle", "per": "Person"}[entry_id]
    return Label(f"l{i}", entry_id, name, Box(1, 2, 30, 40), cls, 0.5 + i / 1000, "m", "1")


def _world(sample_prelabels: int = 7) -> tuple[World, ProjectRef]:
    world = World(limits=StepLimits(sample_prelabels=sample_prelabels))
    ref = world.project(waiting=N + 5)
    for i in range(N):
        labels = [_label("veh", "car", i)]
        if i % 6 == 0:
            labels.append(_label("per", "person", i))
        world.db.prelabels[(ref, f"t{i:04d}")] = Prelabel(
            PrelabelState.DONE, "run_1", tuple(labels), 128, 96
        )
    world.db.counter(ref)["prelabeled"] = N
    return world, ref


def _file(world: World, link: SampleLink) -> zipfile.ZipFile:
    key = str(link.job.result["key"])
    return zipfile.ZipFile(io.BytesIO(world.objects.objects[(BUCKET, key)]))


def _sample(world: World, ref: ProjectRef, fmt: ReviewFileFormat, **kw: Any) -> SampleLink:
    job = world.review_sample_service.start(ref, fmt, **kw)
    ended = world.loop.run(job)
    assert ended.status is JobStatus.SUCCEEDED, ended.error
    link = world.review_sample_service.link(ref, job.job_id)
    assert isinstance(link, SampleLink)
    return link


def test_a_label_studio_sample_holds_enough_boxes_of_each_class_and_says_so() -> None:
    # Given 60 pre-labeled tasks (60 cars, 10 persons), read 7 pre-labels a step
    world, ref = _world()
    # When a Label Studio sample of 8 boxes a class is drawn
    link = _sample(world, ref, ReviewFileFormat.LABEL_STUDIO, boxes_per_class=8, seed=3)
    job = link.job
    # Then the pass took a step per 7 pre-labels, then one to write, progress counting them
    assert job.kind is JobKind.REVIEW_SAMPLE and (job.done, job.total) == (N, N)
    assert len(world.loop.steps[job.job_id]) == N // 7 + 1 + 1
    # And each class got its 8 boxes from the tasks drawn for it (persons' tasks hold cars too)
    classes = {c["name"]: c for c in link.classes}
    assert classes["Vehicle"]["tasks"] == 8 and classes["Person"]["tasks"] == 8
    assert classes["Person"]["boxes"] == 8 and classes["Vehicle"]["boxes"] >= 8
    assert not classes["Vehicle"]["short"] and classes["Person"]["why"] is None
    # And the file is Label Studio's: the sample's tasks, each with its prediction
    archive = _file(world, link)
    tasks = json.loads(archive.read("tasks.json"))
    assert len(tasks) == job.result["tasks"] == len({t["data"]["prelabel_task_id"] for t in tasks})
    assert all(t["predictions"][0]["result"] for t in tasks)
    assert sum(len(t["predictions"][0]["result"]) for t in tasks) == job.result["boxes"]
    assert "labeling_config.xml" in archive.namelist()
    # And the link is the file's, named for the download
    assert f"name={ref.project_id}-review-labelstudio.zip" in link.url


def test_a_class_that_runs_out_is_named_with_the_reason_and_gives_all_it_has() -> None:
    # Given 60 cars and 10 persons
    world, ref = _world()
    # When 30 boxes a class are asked for
    link = _sample(world, ref, ReviewFileFormat.CVAT, boxes_per_class=30, seed=1)
    # Then persons ran short, with all 10 of theirs in the sample and the reason said
    classes = {c["name"]: c for c in link.classes}
    assert classes["Person"]["short"] and classes["Person"]["boxes"] == 10
    assert (
        classes["Person"]["why"]
        == "the project's pre-labels hold only 10 boxes of Person (all taken)"
    )
    assert link.job.result["short_classes"] == 1
    assert not classes["Vehicle"]["short"] and classes["Vehicle"]["boxes"] >= 30


def test_the_same_seed_draws_the_same_sample_through_crashed_steps() -> None:
    # Given two identical projects; in the second, every step's first attempt crashes
    first, ref1 = _world()
    second, ref2 = _world()

    def crash_first_attempt(step: int, attempt: int) -> None:
        if attempt == 0:
            raise OSError("the worker died")

    second.loop.before_step = crash_first_attempt
    # When both draw CVAT samples with seed 42
    a = _sample(first, ref1, ReviewFileFormat.CVAT, boxes_per_class=12, seed=42)
    b = _sample(second, ref2, ReviewFileFormat.CVAT, boxes_per_class=12, seed=42)
    # Then the same tasks are in both files, and the figures are the same
    ids = [
        sorted(
            img["prelabel_task_id"]
            for img in json.loads(_file(w, link).read("annotations/instances_default.json"))[
                "images"
            ]
        )
        for w, link in ((first, a), (second, b))
    ]
    assert ids[0] == ids[1] and len(ids[0]) == a.job.result["tasks"]
    assert a.classes == b.classes and a.job.result["seed"] == 42


def test_a_cvat_sample_is_a_coco_zip_whose_manifest_says_where_each_image_goes() -> None:
    # Given the project
    world, ref = _world()
    # When a CVAT sample is drawn
    link = _sample(world, ref, ReviewFileFormat.CVAT, boxes_per_class=5, seed=9)
    archive = _file(world, link)
    # Then the zip holds COCO at annotations/instances_default.json, as CVAT's COCO 1.0 loads
    coco = json.loads(archive.read("annotations/instances_default.json"))
    assert [c["name"] for c in coco["categories"]] == ["Vehicle", "Person"]
    assert len(coco["images"]) == link.job.result["tasks"]
    assert len(coco["annotations"]) == link.job.result["boxes"]
    # And the manifest puts every image under images/ by its file name, with its S3 object
    manifest = json.loads(archive.read("prelabel_export.json"))
    by_task = {f["task_id"]: f for f in manifest["files"]}
    for image in coco["images"]:
        entry = by_task[image["prelabel_task_id"]]
        assert entry["image"] == f"images/{image['file_name']}"
        assert entry["image_key"] == image["prelabel_image_key"]
        assert entry["annotation"] == "annotations/instances_default.json"


def test_refusals_name_what_is_wrong() -> None:
    # Given a project without pre-labels, and one with
    world = World()
    empty = world.project(waiting=3)
    labeled_world, ref = _world()
    # When a sample is asked of the first; Then 409: nothing to review
    with pytest.raises(Conflict, match="nothing to review"):
        world.review_sample_service.start(empty, ReviewFileFormat.CVAT)
    # When asked with 0 or 1001 boxes a class; Then the field is named
    for boxes in (0, 1001):
        with pytest.raises(InvalidInput) as refused:
            labeled_world.review_sample_service.start(ref, ReviewFileFormat.CVAT, boxes)
        assert refused.value.field == "boxes_per_class"
    # When another kind of job is read as a sample; Then it is refused naming job_id
    job = labeled_world.task_service.move_all(
        ref, source=LabelingState.BACKLOG, target=LabelingState.WAITING
    )
    with pytest.raises(InvalidInput) as refused:
        labeled_world.review_sample_service.link(ref, job.job_id)
    assert refused.value.field == "job_id"


def test_a_repeated_request_gets_the_running_job_and_a_default_size_and_random_seed() -> None:
    # Given the project
    world, ref = _world()
    # When a sample is asked for without size or seed, twice while it runs
    job = world.review_sample_service.start(ref, ReviewFileFormat.LABEL_STUDIO)
    again = world.review_sample_service.start(ref, ReviewFileFormat.LABEL_STUDIO)
    # Then the same job answers; it asks 139 boxes a class with a seed it chose
    assert again == job
    assert job.params["boxes_per_class"] == "139" and job.params["seed"].isdigit()
    # And while it has not run, its read is the job itself
    assert world.review_sample_service.link(ref, job.job_id) == job
