"""Import rules: which objects become tasks, the reasons others are skipped, task ids a retried
slice derives again, reports within their caps, and manifest lines."""

from __future__ import annotations

import pytest

from prelabel.domain.imports import (
    EXAMPLE_BYTES,
    EXAMPLES_PER_REASON,
    MAX_IMAGE_BYTES,
    ImportReport,
    ManifestFormat,
    ObjectRef,
    ReportBuilder,
    SkipReason,
    SkipTally,
    examples_still_wanted,
    is_folder_marker,
    skip_reason,
    task_id_for,
)
from prelabel.domain.locations import DataLocation, OrgLocations
from prelabel.domain.manifests import BadLine, parse_line
from prelabel.imaging import preprocess

A = OrgLocations("org-a", (DataLocation("data", "org-a/"), DataLocation("share", "team/")))


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (ObjectRef("data", "org-a/x/cat.jpg", 10), None),
        (ObjectRef("data", "org-a/x/CAT.JPEG", 10), None),
        (ObjectRef("data", "org-a/x/anim.gif", 10), None),
        (ObjectRef("share", "team/scan.tiff", None), None),
        (ObjectRef("data", "org-a/x/logo.svg", 10), SkipReason.UNSUPPORTED_TYPE),
        (ObjectRef("data", "org-a/x/notes.txt", 10), SkipReason.UNSUPPORTED_TYPE),
        (ObjectRef("data", "org-a/x/empty.png", 0), SkipReason.EMPTY),
        (ObjectRef("data", "org-a/x/huge.png", MAX_IMAGE_BYTES + 1), SkipReason.TOO_LARGE),
        (ObjectRef("data", "org-b/x/cat.jpg", 10), SkipReason.OUTSIDE_LOCATIONS),
        (ObjectRef("data", "org-a/../org-b/cat.jpg", 10), SkipReason.OUTSIDE_LOCATIONS),
        (ObjectRef("share", "team-x/cat.jpg", 10), SkipReason.OUTSIDE_LOCATIONS),
        (ObjectRef("other", "org-a/cat.jpg", 10), SkipReason.OUTSIDE_LOCATIONS),
    ],
)
def test_each_object_is_a_task_or_skipped_with_its_reason(
    obj: ObjectRef, reason: SkipReason | None
) -> None:
    # Given an object an import lists or a manifest names
    # When its fate is decided with org A's locations
    # Then images of the readable types within the size cap inside A's locations are tasks,
    # everything else has its reason (locations first: nothing outside them is looked at)
    assert skip_reason(A, obj) is reason


def test_the_size_cap_is_the_workers_and_folder_markers_are_not_files() -> None:
    # Given the import's size cap and the worker's; When compared
    # Then they are the same (an image the worker would refuse is skipped up front)
    assert MAX_IMAGE_BYTES == preprocess.MAX_BYTES
    # And the empty "folder/" objects consoles make are not files at all
    assert is_folder_marker("org-a/x/", 0) and not is_folder_marker("org-a/x.jpg", 0)


def test_task_ids_are_derived_again_the_same_and_differ_per_generation() -> None:
    # Given one image of one dataset
    first = task_id_for("ds_1", 0, "data", "org-a/cat.jpg")
    # When the id is derived again (a retried slice), for another generation (a reconnect),
    # another dataset or another key
    again = task_id_for("ds_1", 0, "data", "org-a/cat.jpg")
    others = {
        task_id_for("ds_1", 1, "data", "org-a/cat.jpg"),
        task_id_for("ds_2", 0, "data", "org-a/cat.jpg"),
        task_id_for("ds_1", 0, "data", "org-a/dog.jpg"),
        task_id_for("ds_1", 0, "share", "org-a/cat.jpg"),
    }
    # Then a retry gets the same id, and each of the others a new one the API accepts as an id
    assert again == first
    assert len(others) == 4 and first not in others
    assert first.startswith("t_") and len(first) == 26


def test_reports_keep_counts_whole_and_examples_within_their_caps() -> None:
    # Given 250 unsupported keys and 3 empty ones, counted in two slices of one import
    one, two = ReportBuilder(), ReportBuilder()
    for i in range(150):
        one.skipped(SkipReason.UNSUPPORTED_TYPE, f"org-a/{i}.txt")
    for i in range(100):
        two.skipped(SkipReason.UNSUPPORTED_TYPE, f"org-a/b{i}.txt")
    for i in range(3):
        two.skipped(SkipReason.EMPTY, f"org-a/{i}.png")
    two.accepted()
    # When the slices are merged into the import's report
    merged = ReportBuilder()
    merged.merge(one.build())
    merged.merge(two.build())
    report = merged.build()
    # Then every object is counted, and each reason keeps at most 100 examples, the first ones
    assert (report.objects, report.images, report.skipped_total) == (254, 1, 253)
    unsupported = report.skipped[SkipReason.UNSUPPORTED_TYPE]
    assert unsupported.count == 250 and len(unsupported.examples) == EXAMPLES_PER_REASON
    assert unsupported.examples[0] == "org-a/0.txt"
    assert report.skipped[SkipReason.EMPTY] == SkipTally(
        3, ("org-a/0.png", "org-a/1.png", "org-a/2.png")
    )


def test_examples_stop_at_the_byte_budget_and_after_what_earlier_slices_kept() -> None:
    # Given keys of 1,000 bytes (S3 allows 1,024), and a slice after earlier ones kept 98
    long_keys = ReportBuilder()
    later = ReportBuilder(examples_still_wanted({SkipReason.EMPTY.value: 98}))
    # When many are skipped
    for i in range(100):
        long_keys.skipped(SkipReason.UNSUPPORTED_TYPE, f"{i:04d}" + "k" * 996)
        later.skipped(SkipReason.EMPTY, f"org-a/{i}.jpg")
    # Then the examples stay within the item's byte budget, and the later slice adds only the
    # 2 the report still wants; the counts are whole
    kept = long_keys.build().skipped[SkipReason.UNSUPPORTED_TYPE]
    assert kept.count == 100 and len(kept.examples) == EXAMPLE_BYTES // 1000
    assert later.build().skipped[SkipReason.EMPTY] == SkipTally(100, ("org-a/0.jpg", "org-a/1.jpg"))
    assert ImportReport().skipped_total == 0


@pytest.mark.parametrize(
    ("fmt", "line", "found"),
    [
        (
            ManifestFormat.GROUND_TRUTH,
            b'{"source-ref": "s3://data/org-a/x/1.jpg", "class": 3}',
            ObjectRef("data", "org-a/x/1.jpg"),
        ),
        (
            ManifestFormat.GROUND_TRUTH,
            b'\xef\xbb\xbf{"source-ref": "s3://data/org-a/a b+c.jpg"}\r',
            ObjectRef("data", "org-a/a b+c.jpg"),
        ),
        (
            ManifestFormat.GROUND_TRUTH,
            b'{"source": "some text"}',
            BadLine('{"source": "some text"}'),
        ),
        (
            ManifestFormat.GROUND_TRUTH,
            b'{"source-ref": "https://x/y.jpg"}',
            BadLine('{"source-ref": "https://x/y.jpg"}'),
        ),
        (
            ManifestFormat.GROUND_TRUTH,
            b'{"source-ref": "s3://Bad_Bucket/k.jpg"}',
            BadLine('{"source-ref": "s3://Bad_Bucket/k.jpg"}'),
        ),
        (ManifestFormat.GROUND_TRUTH, b"not json", BadLine("not json")),
        (ManifestFormat.GROUND_TRUTH, b"   ", None),
        (
            ManifestFormat.S3_INVENTORY,
            b'"data","org-a/my+photo%281%29.jpg","2048","2026-11-01T00:00:00.000Z"',
            ObjectRef("data", "org-a/my photo(1).jpg", 2048),
        ),
        (
            ManifestFormat.S3_INVENTORY,
            b"data,org-a/x/%E2%82%AC.png",
            ObjectRef("data", "org-a/x/\u20ac.png", None),
        ),
        (
            ManifestFormat.S3_INVENTORY,
            b'"data","org-a/v.jpg","3HL4kqtJlcpXroDTDmJ","true"',
            ObjectRef("data", "org-a/v.jpg", None),
        ),
        (
            ManifestFormat.S3_INVENTORY,
            b"data,org-a/%2e%2e/org-b/x.jpg,5",
            ObjectRef("data", "org-a/../org-b/x.jpg", 5),
        ),
        (ManifestFormat.S3_INVENTORY, b"just-one-column", BadLine("just-one-column")),
        (ManifestFormat.S3_INVENTORY, b"data,%ff%fe.jpg", BadLine("data,%ff%fe.jpg")),
        (ManifestFormat.S3_INVENTORY, b"\xff\xfe", BadLine("\ufffd\ufffd")),
    ],
)
def test_manifest_lines_name_their_object_or_are_reported(
    fmt: ManifestFormat, line: bytes, found: ObjectRef | BadLine | None
) -> None:
    # Given a line of a Ground Truth manifest or an S3 Inventory CSV
    # When it is parsed
    # Then it names its object (inventory keys URL-decoded, the size when the third column is
    # one), is reported with its start, or is a blank line to pass over
    assert parse_line(fmt, line) == found


def test_a_decoded_inventory_key_still_meets_the_location_rules() -> None:
    # Given an inventory line whose key decodes to a climb out of A's folder
    obj = parse_line(ManifestFormat.S3_INVENTORY, b"data,org-a/%2e%2e/org-b/x.jpg,5")
    assert isinstance(obj, ObjectRef)
    # When its fate is decided; Then it is outside A's locations
    assert skip_reason(A, obj) is SkipReason.OUTSIDE_LOCATIONS
