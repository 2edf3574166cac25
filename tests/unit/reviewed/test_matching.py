"""Matching reviewed images to the project's tasks (keys first, unique file names last) and their
labels to the project's bbox entries."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pytest

from prelabel.domain.entities import Box
from prelabel.domain.label_config import Geometry, LabelEntry
from prelabel.reviewed import (
    Finding,
    ImageRef,
    KeyQuery,
    LabelMatcher,
    MatchRule,
    ReadBox,
    ReviewedImage,
    TaskHit,
    TaskIndex,
    match_images,
)
from prelabel.reviewed.refs import image_ref
from tests.unit.reviewed.samples import CONFIG, task

# Two cameras writing the same file names, a key in two buckets, and unique names.
TASKS = (
    task("cam1", "site/cam1/0001.jpg"),
    task("cam2", "site/cam2/0001.jpg"),
    task("home", "shared/x.jpg", bucket="data"),
    task("away", "shared/x.jpg", bucket="other-bucket"),
    task("solo", "park/solo.jpg", size=(800, 600)),
    task("late", "late/new.jpg", size=None),
)
CAR = ReadBox("Vehicle", Box(1, 2, 30, 40), "annotations[0]")


def _image(
    written: str, size: tuple[int, int] | None = (640, 480), boxes: tuple[ReadBox, ...] = (CAR,)
) -> ReviewedImage:
    w, h = size if size else (None, None)
    return ReviewedImage(image_ref(written), f"images[{written}]", w, h, boxes)


def _match(*images: ReviewedImage, already: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    return match_images(images, TaskIndex.of(TASKS), LabelMatcher(CONFIG), already_matched=already)


@pytest.mark.parametrize(
    ("written", "task_id", "rule"),
    [
        ("s3://data/site/cam1/0001.jpg", "cam1", MatchRule.KEY),
        (
            "https://data.s3.eu-west-1.amazonaws.com/site/cam2/0001.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab",
            "cam2",
            MatchRule.KEY,
        ),
        ("https://s3.amazonaws.com/other-bucket/shared/x.jpg", "away", MatchRule.KEY),
        ("site/cam2/0001.jpg", "cam2", MatchRule.PATH),
        ("s3://copies/site/cam1/0001.jpg", "cam1", MatchRule.PATH),
        ("/data/local-files/?d=park/solo.jpg", "solo", MatchRule.PATH),
        ("solo.jpg", "solo", MatchRule.FILE_NAME),
        ("/data/upload/4/9f8e7d6c-solo.jpg", "solo", MatchRule.FILE_NAME),
        ("C:\\Users\\me\\review\\solo.jpg", "solo", MatchRule.FILE_NAME),
    ],
)
def test_an_image_is_matched_by_key_then_path_then_unique_file_name(
    written: str, task_id: str, rule: MatchRule
) -> None:
    # Given the reference a review tool wrote for an image
    size = (800, 600) if task_id == "solo" else (640, 480)
    # When matched against the project's tasks
    result = _match(_image(written, size))
    # Then it finds its task by the first rule that names one task
    assert [(m.task_id, m.rule) for m in result.images] == [(task_id, rule)]


def test_keys_win_over_file_names_that_several_tasks_share() -> None:
    # Given three images named 0001.jpg: one by its S3 URI, one by its key, one by name only
    result = _match(
        _image("s3://data/site/cam1/0001.jpg"), _image("site/cam2/0001.jpg"), _image("0001.jpg")
    )
    # When matched
    # Then the first two find their tasks; the third is refused as ambiguous, never guessed
    assert [(m.task_id, m.rule) for m in result.images] == [
        ("cam1", MatchRule.KEY),
        ("cam2", MatchRule.PATH),
    ]
    assert result.report.findings[Finding.AMBIGUOUS_IMAGE].examples == ("0001.jpg",)
    # And its box is counted as not imported, with the image named
    assert result.report.findings[Finding.IMAGE_NOT_IMPORTED].examples == ("0001.jpg",)


def test_a_key_in_two_buckets_needs_its_bucket() -> None:
    # Given the same key in two buckets of the project, named with and without a bucket
    result = _match(
        _image("s3://other-bucket/shared/x.jpg"), _image("shared/x.jpg"), _image("x.jpg")
    )
    # When matched
    # Then only the one naming its bucket is matched
    assert [m.task_id for m in result.images] == ["away"]
    assert result.report.count(Finding.AMBIGUOUS_IMAGE) == 2


def test_images_of_no_task_are_counted_with_examples() -> None:
    # Given images of another project
    result = _match(_image("s3://data/elsewhere/a.jpg"), _image("b.jpg", boxes=(CAR, CAR)))
    # When matched
    # Then both are unmatched, named, and their 3 boxes counted as not imported
    tally = result.report.findings[Finding.UNMATCHED_IMAGE]
    assert (tally.count, tally.examples) == (2, ("s3://data/elsewhere/a.jpg", "b.jpg"))
    assert result.report.count(Finding.IMAGE_NOT_IMPORTED) == 3
    assert result.images == ()


def test_an_image_of_another_size_than_its_task_is_not_imported() -> None:
    # Given the right key but the size turned (shown without EXIF rotation) or another size;
    # and an image whose task's size is not known yet
    result = _match(
        _image("s3://data/site/cam1/0001.jpg", (480, 640)),
        _image("s3://data/site/cam2/0001.jpg", (1280, 960)),
        _image("s3://data/late/new.jpg", (1024, 768)),
    )
    # When matched
    # Then the first two are refused saying both sizes; the third is taken as the file says
    assert result.report.findings[Finding.SIZE_MISMATCH].examples == (
        "s3://data/site/cam1/0001.jpg: 480x640 in the file, 640x480 for the task (shown without its EXIF rotation?)",
        "s3://data/site/cam2/0001.jpg: 1280x960 in the file, 640x480 for the task",
    )
    assert [m.task_id for m in result.images] == ["late"]


def test_a_task_matched_twice_keeps_the_first_image() -> None:
    # Given the same task named twice in this slice, and a task an earlier slice matched
    result = _match(
        _image("s3://data/park/solo.jpg", (800, 600)),
        _image("solo.jpg", (800, 600), boxes=()),
        _image("site/cam1/0001.jpg"),
        already=frozenset({"cam1"}),
    )
    # When matched
    # Then the first image wins, the others are duplicates
    assert [(m.task_id, len(m.labels)) for m in result.images] == [("solo", 1)]
    assert result.report.findings[Finding.DUPLICATE_IMAGE].examples == (
        "solo.jpg",
        "site/cam1/0001.jpg",
    )


class CountingLookup:
    """A lookup that records what it was asked, as a storage-backed one would answer."""

    def __init__(self) -> None:
        self.index = TaskIndex.of(TASKS)
        self.key_calls: list[set[KeyQuery]] = []
        self.name_calls: list[set[str]] = []

    def tasks_by_key(self, keys: Collection[KeyQuery]) -> Mapping[KeyQuery, Sequence[TaskHit]]:
        self.key_calls.append(set(keys))
        return self.index.tasks_by_key(keys)

    def tasks_by_file_name(self, names: Collection[str]) -> Mapping[str, Sequence[TaskHit]]:
        self.name_calls.append(set(names))
        return self.index.tasks_by_file_name(names)


def test_the_lookup_is_asked_once_per_slice_and_file_names_only_when_keys_fail() -> None:
    # Given a slice of three images, two found by key
    lookup = CountingLookup()
    images = [
        _image("s3://data/site/cam1/0001.jpg"),
        _image("site/cam2/0001.jpg"),
        _image("solo.jpg", (800, 600)),
    ]
    # When matched
    result = match_images(images, lookup, LabelMatcher(CONFIG))
    # Then keys were asked in one call, and file names in one call for the third image only
    assert lookup.key_calls == [
        {
            ("data", "site/cam1/0001.jpg"),
            (None, "site/cam1/0001.jpg"),
            (None, "site/cam2/0001.jpg"),
            (None, "solo.jpg"),
        }
    ]
    assert lookup.name_calls == [{"solo.jpg"}]
    assert len(result.images) == 3


ENTRIES = (
    LabelEntry("veh", "Vehicle", Geometry.BBOX),
    LabelEntry("ped", "Person", Geometry.BBOX),
    LabelEntry("ped2", "person", Geometry.BBOX),
    LabelEntry("road", "Road", Geometry.POLYGON),
    LabelEntry("sign", "Sign", Geometry.BBOX),
    LabelEntry("sign2", "Sign", Geometry.BBOX),
)


@pytest.mark.parametrize(
    ("name", "hint", "entry", "finding"),
    [
        ("Vehicle", None, "veh", None),
        ("vehicle ", None, "veh", None),
        ("veh", None, "veh", None),
        ("Person", None, "ped", None),
        ("person", None, "ped2", None),
        ("PERSON", None, None, Finding.AMBIGUOUS_LABEL),
        ("Sign", None, None, Finding.AMBIGUOUS_LABEL),
        ("Sign", "sign2", "sign2", None),
        ("Renamed", "veh", "veh", None),
        ("Car", "road", None, Finding.UNKNOWN_LABEL),
        ("road", None, None, Finding.NOT_A_BOX_ENTRY),
        ("Truck", None, None, Finding.UNKNOWN_LABEL),
    ],
)
def test_a_label_names_one_bbox_entry(
    name: str, hint: str | None, entry: str | None, finding: Finding | None
) -> None:
    # Given the project's entries (two differ only in case, two share a name, one is a polygon)
    matcher = LabelMatcher(ENTRIES)
    # When a reviewed label (with the entry id its file carried, if any) is matched
    found = matcher.match(name, hint)
    # Then: exact name, entry id, then name without case; a tie or a polygon entry is no match
    assert (found.entry.id if found.entry else None, found.finding) == (entry, finding)


def test_unknown_labels_are_counted_per_name_with_their_images() -> None:
    # Given two images with boxes labelled Truck (twice), Road (a polygon entry) and Vehicle
    truck = ReadBox("Truck", Box(1, 1, 9, 9), "annotations[1]")
    road = ReadBox("Road", Box(1, 1, 9, 9), "annotations[2]")
    result = _match(
        _image("s3://data/site/cam1/0001.jpg", boxes=(CAR, truck, road)),
        _image("s3://data/site/cam2/0001.jpg", boxes=(truck,)),
    )
    # When matched
    report = result.report
    # Then the vehicle is kept, the others dropped per reason, and each name counted
    assert [(m.task_id, [lab.entry_id for lab in m.labels], m.dropped) for m in result.images] == [
        ("cam1", ["veh"], 2),
        ("cam2", [], 1),
    ]
    assert report.unknown_labels["Truck"].count == 2
    assert report.unknown_labels["Truck"].examples == (
        "s3://data/site/cam1/0001.jpg",
        "s3://data/site/cam2/0001.jpg",
    )
    assert report.findings[Finding.NOT_A_BOX_ENTRY].examples == ("annotations[2] (Road)",)
    assert (report.boxes_kept, report.boxes_dropped, report.images_matched) == (1, 3, 2)


def test_a_reference_without_key_or_name_is_unmatched() -> None:
    # Given an image whose reference names nothing usable (a bare URL host)
    image = ReviewedImage(ImageRef("https://example.com/"), "tasks[0]", None, None, ())
    # When matched
    result = _match(image)
    # Then it is unmatched, named as written
    assert result.report.findings[Finding.UNMATCHED_IMAGE].examples == ("https://example.com/",)
