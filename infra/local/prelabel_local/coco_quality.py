"""A detector on COCO-style ground truth (e.g. shared/data/coco-mini-train), measured twice:
by `prelabel.quality` and by pycocotools' COCOeval on the same boxes. For the quality
integration tests and `benchmarks/quality.py`; pycocotools and the detector extra are
development dependencies, imported here only.

Class keys are COCO category names. The model's class i is COCO80[i], whose COCO category id
is COCO91_IDS[i] (COCO's ids run 1..90 with gaps); the file's categories must agree.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from prelabel.detector_wire import Options
from prelabel.domain.entities import Box
from prelabel.quality import (
    ALL,
    PredictedBox,
    QualityAccumulator,
    ReviewedBox,
    ScopeTally,
    TaskEvidence,
    Verdict,
    exact_ap50,
)
from prelabel_detector.coco import COCO80, COCO91_IDS
from prelabel_detector.handler import LoadedModel


def _box(x: float, y: float, w: float, h: float) -> Box:
    # Corners as COCOeval derives them from [x, y, w, h], so both sides compare the same box.
    return Box(x, y, x + w, y + h)


@dataclass(frozen=True)
class CocoImage:
    image_id: int
    path: Path
    reviewed: tuple[ReviewedBox, ...]  # non-crowd annotations, in the file's order


@dataclass(frozen=True)
class CocoSet:
    images: tuple[CocoImage, ...]  # by image id
    names: dict[int, str]  # category id -> name
    supercategory: dict[str, str]  # category name -> COCO's supercategory name
    ground_truth: dict[str, Any]  # the file's dataset, crowd annotations left out


def load_coco_set(folder: Path) -> CocoSet:
    doc = json.loads((folder / "instances.json").read_text())
    names = {int(c["id"]): str(c["name"]) for c in doc["categories"]}
    for index, name in enumerate(COCO80):
        if names.get(COCO91_IDS[index]) != name:
            raise ValueError(f"category {COCO91_IDS[index]} is not {name!r} in {folder}")
    kept = [a for a in doc["annotations"] if not a.get("iscrowd")]
    per_image: dict[int, list[ReviewedBox]] = {int(i["id"]): [] for i in doc["images"]}
    for ann in kept:
        per_image[int(ann["image_id"])].append(
            ReviewedBox(names[int(ann["category_id"])], _box(*ann["bbox"]))
        )
    images = tuple(
        CocoImage(int(i["id"]), folder / "images" / i["file_name"], tuple(per_image[int(i["id"])]))
        for i in sorted(doc["images"], key=lambda i: int(i["id"]))
    )
    groups = {str(c["name"]): str(c["supercategory"]) for c in doc["categories"]}
    return CocoSet(images, names, groups, {**doc, "annotations": kept})


@dataclass(frozen=True)
class Detected:
    image_id: int
    boxes: tuple[PredictedBox, ...]  # as the detector listed them
    xywh: tuple[tuple[float, float, float, float], ...]  # the same boxes, COCO results style


def detect_coco(model: LoadedModel, coco: CocoSet, score_floor: float) -> list[Detected]:
    """The model's boxes on every image, in original pixels, down to `score_floor`."""
    options = Options(score_floor=score_floor)
    out = []
    for image in coco.images:
        (result,) = model.backend.detect_encoded([image.path.read_bytes()], options)
        if isinstance(result, str):
            raise ValueError(f"{image.path}: {result}")
        boxes, xywh = [], []
        for d in result:
            x1, y1, x2, y2 = d.box
            rect = (x1, y1, x2 - x1, y2 - y1)
            xywh.append(rect)
            boxes.append(PredictedBox(COCO80[d.class_id], d.score, _box(*rect)))
        out.append(Detected(image.image_id, tuple(boxes), tuple(xywh)))
    return out


def cocoeval_ap50(
    coco: CocoSet, detected: Sequence[Detected], image_ids: Iterable[int] | None = None
) -> dict[str, float]:
    """COCOeval's AP at IoU 0.5 (area all, 100 detections) per category with ground truth."""
    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    ids = sorted(image_ids) if image_ids is not None else [i.image_id for i in coco.images]
    wanted = set(ids)
    inverse = {name: cid for cid, name in coco.names.items()}
    results = [
        {
            "image_id": d.image_id,
            "category_id": inverse[b.class_key],
            "bbox": list(r),
            "score": b.score,
        }
        for d in detected
        if d.image_id in wanted
        for b, r in zip(d.boxes, d.xywh, strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = coco.ground_truth
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluation.params.imgIds = ids
        evaluation.params.iouThrs = np.array([0.5])
        evaluation.evaluate()
        evaluation.accumulate()
    precision = evaluation.eval["precision"][0, :, :, 0, -1]  # recall points x categories
    out = {}
    for k, cid in enumerate(evaluation.params.catIds):
        column = precision[:, k]
        if column[0] > -1:
            out[coco.names[cid]] = float(np.mean(column))
    return out


@dataclass(frozen=True)
class OurFigures:
    tally: ScopeTally  # what the report reads
    exact_ap50: dict[str, float]  # per class with reviewed boxes, from the full ranking


def quality_figures(
    coco: CocoSet,
    detected: Sequence[Detected],
    image_ids: Iterable[int] | None = None,
    class_of: Callable[[str], str] | None = None,
) -> OurFigures:
    """Every image as a task through prelabel.quality, and the exact-ranking AP beside it.

    `class_of` renames classes on both sides first, as a project whose label entries each
    take several categories would see them (e.g. COCO's supercategories).
    """
    wanted = None if image_ids is None else set(image_ids)
    found = {d.image_id: d for d in detected}
    acc = QualityAccumulator()
    ranked: dict[str, list[tuple[float, bool]]] = {}
    for image in coco.images:
        if wanted is not None and image.image_id not in wanted:
            continue
        boxes, reviewed = found[image.image_id].boxes, image.reviewed
        if class_of is not None:
            boxes = tuple(replace(b, class_key=class_of(b.class_key)) for b in boxes)
            reviewed = tuple(replace(r, class_key=class_of(r.class_key)) for r in reviewed)
        match = acc.add_task(TaskEvidence(boxes, reviewed, "model"))
        for v in match.verdicts:
            if v.verdict is not Verdict.BEYOND_CAP:
                ranked.setdefault(v.class_key, []).append((v.score, v.verdict is Verdict.MATCH))
    tally = acc.scopes.get(ALL, ScopeTally())
    exact = {}
    for cls, t in tally.classes.items():
        ap = exact_ap50(ranked.get(cls, []), t.reviewed)
        if ap is not None:
            exact[cls] = ap
    return OurFigures(tally, exact)
