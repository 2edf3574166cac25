"""Import reports as the compact JSON text the dataset and slice items hold."""

from __future__ import annotations

import json
from typing import Any

from prelabel.domain.imports import ImportReport, SkipReason, SkipTally


def report_to_json(report: ImportReport) -> str:
    doc: dict[str, Any] = {
        "objects": report.objects,
        "images": report.images,
        "skipped": {
            r.value: {"count": t.count, "examples": list(t.examples)}
            for r, t in report.skipped.items()
        },
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def report_from_json(text: str) -> ImportReport:
    doc = json.loads(text)
    skipped = {
        SkipReason(r): SkipTally(int(t["count"]), tuple(str(k) for k in t["examples"]))
        for r, t in doc.get("skipped", {}).items()
    }
    return ImportReport(int(doc.get("objects", 0)), int(doc.get("images", 0)), skipped)
