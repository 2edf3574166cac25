"""Quality report and calibrated thresholds on coco-mini-train, against pycocotools' COCOeval.

Run: .venv/bin/python benchmarks/quality.py [--targets 0.9 0.8 0.7] [--scale 100000]

YOLOX-Nano (the test model in ../shared/models) labels the 80 photos of
../shared/data/coco-mini-train down to a 0.01 score floor; COCO's non-crowd labels play the
reviewed boxes. Prints, as markdown tables (docs/quality.md holds a copy):

1. per class AP50: prelabel.quality's report (the middle of the range its 0.001 score bins
   allow, with half that range: the most it can be off) next to COCOeval's (bbox, IoU 0.5,
   area all, 100 detections) on the same boxes, and the difference;
2. calibration on held-out halves: the 80 photos split in two halves (fixed seed); thresholds
   calibrated on one half (lowest threshold whose precision's 95% Wilson lower bound meets the
   target) are applied to the other half, both ways, per COCO category and per supercategory
   (as a project whose entries take several classes). "Enough boxes": the class was reachable
   on its calibration half and the held-out half has at least MIN_HELD_OUT boxes at or above
   the threshold; a class "reaches" the target when its held-out precision is >= the target.
   Then the same over REPEATS random splits: how often, and the held-out precision pooled;
3. cost: synthetic tasks (10 predicted, 8 reviewed boxes, 20 classes) through the accumulator
   in 10 slices, merged, and every class's report: seconds and stored size.

YOLOX-Nano was trained on COCO train2017, so its scores on these photos read high: the
figures test the machinery, not the model. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prelabel.domain.entities import Box
from prelabel.quality import (
    ALL,
    Calibration,
    PredictedBox,
    QualityAccumulator,
    ReviewedBox,
    ScopeTally,
    TaskEvidence,
    calibrate_scope,
    precision_recall_curve,
    scope_report,
)
from prelabel_detector.descriptor import Descriptor, bundled
from prelabel_detector.handler import load_model
from prelabel_local.coco_quality import (
    CocoSet,
    Detected,
    cocoeval_ap50,
    detect_coco,
    load_coco_set,
    quality_figures,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
SCORE_FLOOR = 0.01
SPLIT_SEED = 21
MIN_HELD_OUT = 20
REPEATS = 100


def ap_table(coco: CocoSet, detected: list[Detected]) -> None:
    theirs = cocoeval_ap50(coco, detected)
    report = scope_report(ALL, quality_figures(coco, detected).tally)
    print("| class | reviewed | predicted | AP50 ours | ± bound | AP50 COCOeval | difference |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    diffs = []
    for row in sorted(report.classes, key=lambda r: -r.reviewed):
        if not row.reviewed:
            continue
        ours, bound, coco_ap = (
            row.ap50.value or 0.0,
            row.ap50.error_bound or 0.0,
            theirs[row.class_key],
        )
        diffs.append(abs(ours - coco_ap))
        print(
            f"| {row.class_key} | {row.reviewed} | {row.predicted} | {ours:.4f} | {bound:.4f} "
            f"| {coco_ap:.4f} | {ours - coco_ap:+.4f} |"
        )
    mean_theirs = sum(theirs.values()) / len(theirs)
    ours_map = report.map50.value or 0.0
    print(
        f"\n{len(diffs)} classes with reviewed boxes; |difference| max {max(diffs):.4f}, mean "
        f"{sum(diffs) / len(diffs):.5f}. Mean AP50: ours {ours_map:.4f}, COCOeval "
        f"{mean_theirs:.4f} (difference {ours_map - mean_theirs:+.5f}). "
        f"{report.precision.n} boxes, {report.recall.n} reviewed boxes, {report.tasks} tasks.\n"
    )


@dataclass(frozen=True)
class HeldOut:
    """One class calibrated on one half and applied to the other."""

    calibration: Calibration
    boxes: int  # held-out boxes at or above the threshold
    precision: float | None
    recall: float | None

    @property
    def enough(self) -> bool:
        return self.calibration.reachable and self.boxes >= MIN_HELD_OUT

    def reached(self, target: float) -> bool:
        return self.precision is not None and self.precision >= target


def _apply(cal: Calibration, held: ScopeTally) -> HeldOut:
    tally = held.classes.get(cal.class_key)
    if not cal.reachable or cal.threshold is None or tally is None:
        return HeldOut(cal, 0, None, None)
    step = round(cal.threshold * 100)
    point = precision_recall_curve(tally)[step - 1]
    return HeldOut(cal, point.precision.n, point.precision.value, point.recall.value)


def held_out(
    coco: CocoSet,
    detected: list[Detected],
    seed: int,
    target: float,
    class_of: Callable[[str], str] | None,
) -> dict[str, list[HeldOut]]:
    """Per direction ("A->B", "B->A"), every class's calibration and its held-out figures."""
    ids = [i.image_id for i in coco.images]
    random.Random(seed).shuffle(ids)
    halves = {"A": ids[: len(ids) // 2], "B": ids[len(ids) // 2 :]}
    tallies = {k: quality_figures(coco, detected, v, class_of).tally for k, v in halves.items()}
    return {
        f"{a}->{b}": [_apply(c, tallies[b]) for c in calibrate_scope(tallies[a], target)]
        for a, b in (("A", "B"), ("B", "A"))
    }


def _table(rows: list[HeldOut], target: float) -> None:
    print(
        "| class | boxes (calibration) | threshold | precision (lower bound) "
        "| boxes held out | precision held out | recall held out | reached | enough |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        cal, p = r.calibration, r.calibration.precision
        if not cal.reachable or p is None or p.value is None or p.lower is None:
            continue
        shown = "-" if r.precision is None else f"{r.precision:.3f}"
        recall = "-" if r.recall is None else f"{r.recall:.3f}"
        print(
            f"| {cal.class_key} | {p.n} | {cal.threshold:.2f} | {p.value:.3f} ({p.lower:.3f}) "
            f"| {r.boxes} | {shown} | {recall} | {'yes' if r.reached(target) else 'no'} "
            f"| {'yes' if r.enough else 'no'} |"
        )


def calibration_tables(
    coco: CocoSet,
    detected: list[Detected],
    targets: list[float],
    class_of: Callable[[str], str] | None = None,
) -> None:
    for target in targets:
        for direction, rows in held_out(coco, detected, SPLIT_SEED, target, class_of).items():
            print(f"Target {target}, halves {direction} (calibrated -> held out)\n")
            _table(rows, target)
            enough = [r for r in rows if r.enough]
            unreachable = [r.calibration for r in rows if not r.calibration.reachable]
            needs = sorted(c.more_boxes for c in unreachable if c.more_boxes is not None)
            median = needs[len(needs) // 2] if needs else "-"
            print(
                f"\n{sum(r.reached(target) for r in enough)} of {len(enough)} classes with "
                f"enough boxes reach the target on held-out data. {len(unreachable)} of "
                f"{len(rows)} classes not reachable on the calibration half (median estimate: "
                f"{median} more reviewed boxes).\n"
            )
        repeated(coco, detected, target, class_of)


def repeated(
    coco: CocoSet, detected: list[Detected], target: float, class_of: Callable[[str], str] | None
) -> None:
    """The same over many random splits: how often a calibrated threshold holds."""
    enough = reached = reachable = hits = boxes = 0
    for seed in range(REPEATS):
        for rows in held_out(coco, detected, seed, target, class_of).values():
            reachable += sum(r.calibration.reachable for r in rows)
            for r in rows:
                if r.enough and r.precision is not None:
                    enough += 1
                    reached += r.reached(target)
                    hits += round(r.precision * r.boxes)
                    boxes += r.boxes
    rate = f"{reached / enough:.0%}" if enough else "-"
    pooled = f"{hits / boxes:.3f} over {boxes} boxes" if boxes else "-"
    print(
        f"Over {REPEATS} random splits x 2 directions at target {target}: {reachable} "
        f"calibrations reachable, {enough} with enough held-out boxes, {reached} of those "
        f"reach the target on held-out data ({rate}); their held-out precision pooled: "
        f"{pooled}.\n"
    )


def _synthetic(rng: random.Random, classes: list[str]) -> TaskEvidence:
    reviewed, predicted = [], []
    for k in range(8):
        cls = rng.choice(classes)
        b = Box(60.0 * k, 10.0, 60.0 * k + 40, 50.0)
        reviewed.append(ReviewedBox(cls, b))
        if rng.random() < 0.9:
            shift = rng.uniform(-6, 6)
            near = Box(b.x1 + shift, b.y1, b.x2 + shift, b.y2)
            predicted.append(PredictedBox(cls, round(rng.random(), 4), near))
    while len(predicted) < 10:
        x = rng.uniform(0, 500)
        predicted.append(
            PredictedBox(rng.choice(classes), round(rng.random(), 4), Box(x, 200, x + 30, 240))
        )
    return TaskEvidence(predicted, reviewed, "model-1", "run-1")


def scale(n: int) -> None:
    rng = random.Random(7)
    classes = [f"class-{i}" for i in range(20)]
    tasks = [_synthetic(rng, classes) for _ in range(n)]
    started = time.perf_counter()
    slices = []
    for s in range(10):
        part = QualityAccumulator()
        for task in tasks[s::10]:
            part.add_task(task)
        slices.append(part)
    added = time.perf_counter() - started
    stored = [json.dumps(p.to_dict()) for p in slices]
    started = time.perf_counter()
    total = QualityAccumulator()
    for doc in stored:
        total.merge(QualityAccumulator.from_dict(json.loads(doc)))
    merged = time.perf_counter() - started
    started = time.perf_counter()
    report = scope_report(ALL, total.scopes[ALL])
    calibrate_scope(total.scopes[ALL])
    reported = time.perf_counter() - started
    boxes = sum(len(t.predicted) + len(t.reviewed) for t in tasks)
    print(
        f"{n:,} tasks ({boxes:,} boxes, 20 classes, 2 scopes): matching + tallying {added:.1f} s "
        f"({added / n * 1e6:.0f} µs a task); reading back and merging 10 stored slices "
        f"{merged:.2f} s; report and calibration of every class {reported:.2f} s. A stored "
        f"slice: {sum(map(len, stored)) / len(stored) / 1024:.0f} KB of JSON; "
        f"mean AP50 {report.map50.value:.3f} over {report.tasks:,} tasks."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=float, nargs="+", default=[0.9, 0.8, 0.7])
    parser.add_argument("--scale", type=int, default=100_000, help="synthetic tasks (0: skip)")
    args = parser.parse_args()
    coco = load_coco_set(SHARED / "data" / "coco-mini-train")
    model = load_model(
        Descriptor.load(bundled("yolox_nano.json"), SHARED / "models" / "yolox-nano")
    )
    detected = detect_coco(model, coco, SCORE_FLOOR)
    print(f"## AP50 per class: YOLOX-Nano at floor {SCORE_FLOOR} on {len(coco.images)} photos\n")
    ap_table(coco, detected)
    print(f"## Calibration on held-out halves (seed {SPLIT_SEED}), per COCO category\n")
    calibration_tables(coco, detected, args.targets)
    print(
        f"## Calibration on held-out halves (seed {SPLIT_SEED}), per COCO supercategory\n\n"
        "As a project whose label entries each take several detector classes (Vehicle: car, "
        "bus, truck, ...) sees it: categories renamed to their supercategory on both sides.\n"
    )
    calibration_tables(coco, detected, args.targets, coco.supercategory.__getitem__)
    if args.scale:
        print("## Cost\n")
        scale(args.scale)


if __name__ == "__main__":
    main()
