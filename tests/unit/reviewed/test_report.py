"""The report: slices add up to one pass, examples stay within their caps, and it survives a
trip through JSON (how a job item would store it)."""

from __future__ import annotations

import json
from dataclasses import replace

from prelabel.domain.entities import Box
from prelabel.reviewed import (
    Finding,
    LabelMatcher,
    ReadBox,
    ReviewedImage,
    ReviewFormat,
    ReviewReport,
    TaskIndex,
    match_images,
    merge_reports,
    read_reviewed,
)
from prelabel.reviewed.refs import image_ref
from prelabel.reviewed.report import EXAMPLES, LABEL_NAMES, ReportBuilder
from tests.unit.reviewed.samples import CONFIG, TASKS, ExportFormat, prelabel_export
from tests.unit.reviewed.tools import label_studio_export


def _mixed_file() -> list[ReviewedImage]:
    """The round trip's reviewed images plus unmatched, duplicate and unknown-label ones."""
    read = read_reviewed(
        label_studio_export(prelabel_export(ExportFormat.LABEL_STUDIO)), ReviewFormat.LABEL_STUDIO
    )
    truck = ReadBox("Truck", Box(1, 1, 5, 5), "x")
    extra = [
        ReviewedImage(image_ref(f"s3://data/gone/{i}.jpg"), f"extra[{i}]", 640, 480, (truck,))
        for i in range(15)
    ]
    again = ReviewedImage(image_ref("s3://data/street/a.jpg"), "again", 640, 480, (truck, truck))
    first = replace(read.images[0], boxes=(*read.images[0].boxes, truck))
    return [first, *read.images[1:], *extra, again]


def test_slices_add_up_to_the_report_of_one_pass() -> None:
    # Given a file's images, matched in one pass and in slices of 4 (each slice told which
    # tasks earlier slices matched)
    images = _mixed_file()
    index, labels = TaskIndex.of(TASKS), LabelMatcher(CONFIG)
    whole = match_images(images, index, labels)
    matched: set[str] = set()
    reports, tasks = [], []
    for start in range(0, len(images), 4):
        part = match_images(
            images[start : start + 4], index, labels, already_matched=frozenset(matched)
        )
        matched |= {m.task_id for m in part.images}
        reports.append(part.report)
        tasks += [m.task_id for m in part.images]
    # When the slices' reports are merged
    merged = merge_reports(reports)
    # Then it is the one-pass report, examples included, and the same tasks were matched
    assert merged == whole.report
    assert tasks == [m.task_id for m in whole.images]
    assert merged.count(Finding.DUPLICATE_IMAGE) == 1
    # And every image and box is accounted for once
    assert merged.images_matched + merged.images_not_imported == len(images)
    boxes = sum(len(i.boxes) for i in images)
    assert merged.boxes_kept + merged.boxes_dropped == boxes


def test_examples_and_label_names_stay_within_their_caps() -> None:
    # Given 15 unmatched images (in two reports) and 150 distinct unknown label names
    first, second = ReportBuilder(), ReportBuilder()
    for i in range(15):
        (first if i < 8 else second).add(Finding.UNMATCHED_IMAGE, f"img-{i}.jpg")
    for i in range(150):
        first.unknown_label(f"label-{i}", "a.jpg")
    first.unknown_label("x" * 500, "a.jpg")
    # When merged
    report = first.build().merge(second.build())
    # Then all are counted, with the first 10 examples, and 100 names itemized
    tally = report.findings[Finding.UNMATCHED_IMAGE]
    assert tally.count == 15
    assert tally.examples == tuple(f"img-{i}.jpg" for i in range(EXAMPLES))
    assert len(report.unknown_labels) == LABEL_NAMES
    assert "label-99" in report.unknown_labels
    assert "label-100" not in report.unknown_labels


def test_a_report_survives_json() -> None:
    # Given a report with findings and unknown labels
    report = match_images(_mixed_file(), TaskIndex.of(TASKS), LabelMatcher(CONFIG)).report
    # When written as JSON and read back
    back = ReviewReport.from_dict(json.loads(json.dumps(report.as_dict())))
    # Then it is the same report
    assert back == report
    assert back.unknown_labels["Truck"].count == 1
    assert back.count(Finding.UNMATCHED_IMAGE) == 15
    # And a finding this code does not know (written by a later version) is left out
    doc = report.as_dict()
    doc["findings"]["from_the_future"] = {"count": 3, "examples": []}
    assert ReviewReport.from_dict(doc) == report
