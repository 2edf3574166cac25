"""Prelabel's export -> a review tool -> the tool's export -> back: every image finds its task and
carries exactly the boxes people left, under the project's entries."""

from __future__ import annotations

import json

from prelabel.reviewed import (
    Finding,
    LabelMatcher,
    MatchRule,
    ReviewFormat,
    ReviewReport,
    SliceMatch,
    TaskIndex,
    match_images,
    read_reviewed,
    sniff_format,
)
from tests.unit.reviewed.samples import (
    CONFIG,
    TASKS,
    ExportFormat,
    expected,
    imported,
    prelabel_export,
    read_member,
)
from tests.unit.reviewed.tools import cvat_coco_export, cvat_voc_export, label_studio_export


def _import(data: bytes, fmt: ReviewFormat) -> tuple[SliceMatch, ReviewReport]:
    """Read, match against the project's tasks, and the whole report (reading + matching)."""
    read = read_reviewed(data, fmt)
    matched = match_images(read.images, TaskIndex.of(TASKS), LabelMatcher(CONFIG))
    return matched, read.report.merge(matched.report)


def test_label_studio_round_trip_takes_the_latest_annotation_of_every_task() -> None:
    # Given Prelabel's Label Studio export, imported into Label Studio, where people cancelled
    # once, then annotated each task twice; the latest annotation moves, deletes, relabels and
    # adds boxes, and the predictions (Prelabel's pre-labels) stay attached to each task
    tool_file = label_studio_export(prelabel_export(ExportFormat.LABEL_STUDIO))
    assert sniff_format(tool_file) is ReviewFormat.LABEL_STUDIO
    # When the tool's JSON export is read and matched
    matched, report = _import(tool_file, ReviewFormat.LABEL_STUDIO)
    # Then every task is matched by its s3:// key, with the latest annotation's boxes only
    assert imported(matched.images) == expected()
    assert {m.rule for m in matched.images} == {MatchRule.KEY}
    # And nothing of the predictions was taken: t1's deleted person is not back
    assert [lab.entry_id for m in matched.images if m.task_id == "t1" for lab in m.labels] == [
        "veh"
    ]
    # And the report adds up: 5 images, 7 boxes, all kept
    assert (report.images_found, report.images_matched) == (5, 5)
    assert (report.boxes_found, report.boxes_kept) == (7, 7)
    assert report.findings == {}


def test_cvat_coco_round_trip_matches_frames_named_by_key() -> None:
    # Given Prelabel's COCO file uploaded into a CVAT task whose frames carry its file names
    # (the keys), labels typed in another order, and people's edits
    tool_file = cvat_coco_export(prelabel_export(ExportFormat.COCO))
    assert sniff_format(tool_file) is ReviewFormat.CVAT_COCO
    # When CVAT's COCO 1.0 zip is read and matched
    matched, report = _import(tool_file, ReviewFormat.CVAT_COCO)
    # Then every frame finds its task by its key (CVAT kept no bucket), with people's boxes
    assert imported(matched.images) == expected()
    assert {m.rule for m in matched.images} == {MatchRule.PATH}
    # And the image CVAT read for t5 (not pre-labeled, size unknown to Prelabel) is taken
    assert next(m for m in matched.images if m.task_id == "t5").image.size == (320, 240)
    assert (report.images_matched, report.boxes_kept, report.boxes_found) == (5, 7, 7)
    assert report.findings == {}


def test_cvat_voc_round_trip_matches_by_unique_file_names() -> None:
    # Given Prelabel's VOC zip (flat names; t5 left out: its size is unknown) uploaded into
    # CVAT with its images, edited, and exported as PASCAL VOC 1.1
    tool_file = cvat_voc_export(prelabel_export(ExportFormat.VOC))
    assert sniff_format(tool_file) is ReviewFormat.VOC
    # When the zip is read and matched
    matched, report = _import(tool_file, ReviewFormat.VOC)
    # Then each image finds its task by file name (CVAT names no bucket or folder), with the
    # boxes people left, whole pixels as VOC keeps them
    assert imported(matched.images, tolerance=0.5) == expected(["t1", "t2", "t3", "t4"])
    assert {m.rule for m in matched.images} == {MatchRule.FILE_NAME}
    assert (report.images_found, report.images_matched, report.boxes_kept) == (4, 4, 6)


def test_prelabel_coco_edited_in_place_keeps_its_own_keys_and_entry_ids() -> None:
    # Given Prelabel's own COCO file, edited as a script or FiftyOne would: a box moved, one
    # deleted, one relabelled, one added (new id), the rest untouched
    doc = json.loads(prelabel_export(ExportFormat.COCO))
    cat = {c["name"]: c["id"] for c in doc["categories"]}
    image = {i["prelabel_task_id"]: i["id"] for i in doc["images"]}
    anns = doc["annotations"]
    car_t1 = next(
        a for a in anns if a["image_id"] == image["t1"] and a["category_id"] == cat["Vehicle"]
    )
    car_t1["bbox"] = [74, 53, 128, 96]
    anns.remove(
        next(a for a in anns if a["image_id"] == image["t1"] and a["category_id"] == cat["Person"])
    )
    next(a for a in anns if a["image_id"] == image["t2"])["category_id"] = cat["Person"]
    extra = [
        ("t3", "Vehicle", [500, 250, 280, 170]),
        ("t4", "Person", [20, 30, 200, 560]),
        ("t5", "Bicycle", [5, 10, 100, 80]),
    ]
    for n, (tid, name, bbox) in enumerate(extra):
        anns.append(
            {
                "id": 1000 + n,
                "image_id": image[tid],
                "category_id": cat[name],
                "bbox": bbox,
                "iscrowd": 0,
                "area": bbox[2] * bbox[3],
                "segmentation": [],
            }
        )
    # When it is read and matched
    matched, report = _import(json.dumps(doc).encode(), ReviewFormat.COCO)
    # Then every image is matched by Prelabel's bucket and key, with people's boxes
    assert imported(matched.images) == expected()
    assert {m.rule for m in matched.images} == {MatchRule.KEY}
    assert (report.images_matched, report.boxes_kept) == (5, 7)


def test_the_prelabel_export_itself_reads_back_as_its_pre_labels() -> None:
    # Given Prelabel's exports with nobody's edits (the LS zip's tasks carry predictions only)
    for fmt, review_fmt in (
        (ExportFormat.COCO, ReviewFormat.COCO),
        (ExportFormat.VOC, ReviewFormat.VOC),
    ):
        data = prelabel_export(fmt)
        # When read back as reviewed labels
        matched, _ = _import(data, review_fmt)
        # Then each image's boxes are its pre-labels, under the same entries
        want = {
            t.task_id: sorted((lab.entry_id, tuple(lab.box.as_list())) for lab in t.labels)
            for t in TASKS
            if fmt is ExportFormat.COCO or t.image_width
        }
        assert imported(matched.images) == want, fmt
    # And Label Studio's tasks.json as exported has no person's annotation: nothing to import
    tasks = read_member(prelabel_export(ExportFormat.LABEL_STUDIO), "tasks.json")
    read = read_reviewed(tasks, ReviewFormat.LABEL_STUDIO)
    assert read.images == ()
    assert read.report.count(Finding.UNREVIEWED_IMAGE) == len(TASKS)
