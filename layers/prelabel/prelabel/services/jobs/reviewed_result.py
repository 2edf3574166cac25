"""What a reviewed-labels import leaves in its job's result: what it read and where from, the
figures, and the report with each finding's description and examples."""

from __future__ import annotations

from typing import Any

from prelabel.domain.jobs import Job
from prelabel.reviewed import ReviewReport


def report_doc(report: ReviewReport) -> dict[str, Any]:
    doc = report.as_dict()
    for finding in report.findings:
        doc["findings"][finding.value] |= {
            "description": finding.description,
            "unit": finding.unit.value,
            "dropped": finding.dropped,
        }
    return doc


def import_result(job: Job, fmt: str, report: ReviewReport) -> dict[str, Any]:
    return {
        "format": fmt,
        "bucket": job.params["bucket"],
        "key": job.params["key"],
        "images_found": report.images_found,
        "images_matched": report.images_matched,
        "images_not_imported": report.images_not_imported,
        "boxes_found": report.boxes_found,
        "boxes_kept": report.boxes_kept,
        "boxes_dropped": report.boxes_dropped,
        "report": report_doc(report),
    }
