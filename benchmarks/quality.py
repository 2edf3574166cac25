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
   the threshold; a class "reaches" the target when its held-out precision is >= the target,
   and is "consistent" with it when the held-out 95% Wilson interval reaches the target (the
   held-out boxes do not refute it). Then the same over REPEATS random splits: how often, and
   the held-out precision pooled, next to an oracle (the threshold exactly right over all the
   photos, applied to the same held-out halves: how often chance alone misses the target);
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
from prelabel.quality.bounds import wilson_interval
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
DIRECTIONS = (("A", "B"), ("B", "A"))


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
    hits: int  # of which right
    precision: float | None
    recall: float | None

    @property
    def enough(self) -> bool:
        return self.calibration.reachable and self.boxes >= MIN_HELD_OUT

    def reached(self, target: float) -> bool:
        return self.precision is not None and self.precision >= target

    def consistent(self, target: float) -> bool:
        """The held-out boxes do not refute the target: its 95% Wilson interval reaches it."""
        interval = wilson_interval(self.hits, self.boxes)
        return interval is not None and interval[1] >= target


def _apply(cal: Calibration, held: ScopeTally) -> HeldOut:
    tally = held.classes.get(cal.class_key)
    if not cal.reachable or cal.threshold is None or tally is None:
        return HeldOut(cal, 0, 0, None, None)
    step = round(cal.threshold * 100)
    point = precision_recall_curve(tally)[step - 1]
    p = point.precision
    return HeldOut(cal, p.n, p.hits, p.value, point.recall.value)


def split_tallies(
    coco: CocoSet, detected: list[Detected], seed: int, class_of: Callable[[str], str] | None
) -> dict[str, ScopeTally]:
    """The photos shuffled by `seed` and cut in two halves, "A" and "B": each half's tally."""
    ids = [i.image_id for i in coco.images]
    random.Random(seed).shuffle(ids)
    halves = {"A": ids[: len(ids) // 2], "B": ids[len(ids) // 2 :]}
    return {k: quality_figures(coco, detected, v, class_of).tally for k, v in halves.items()}


def held_out(tallies: dict[str, ScopeTally], target: float) -> dict[str, list[HeldOut]]:
    """Per direction ("A->B", "B->A"), every class's calibration and its held-out figures."""
    return {
        f"{a}->{b}": [_apply(c, tallies[b]) for c in calibrate_scope(tallies[a], target)]
        for a, b in DIRECTIONS
    }


def oracle(full: ScopeTally, target: float) -> list[Calibration]:
    """Per class, the threshold that is exactly right over all the photos: the lowest whose
    precision over all of them is >= target on at least MIN_HELD_OUT boxes. Held out, it shows
    how often even a perfect threshold reaches the target on a half, by chance alone."""
    out = []
    for key, tally in sorted(full.classes.items()):
        for point in precision_recall_curve(tally):
            p = point.precision
            if p.n >= MIN_HELD_OUT and p.value is not None and p.value >= target:
                out.append(Calibration(key, target, True, point.threshold, p, point.recall))
                break
    return out


def _table(rows: list[HeldOut], target: float) -> None:
    print(
        "| class | boxes (calibration) | threshold | precision (lower bound) "
        "| boxes held out | precision held out (95% interval) | recall held out | reached "
        "| consistent | enough |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |")
    for r in rows:
        cal, p = r.calibration, r.calibration.precision
        if not cal.reachable or p is None or p.value is None or p.lower is None:
            continue
        interval = wilson_interval(r.hits, r.boxes)
        shown = (
            "-"
            if r.precision is None or interval is None
            else f"{r.precision:.3f} ({interval[0]:.3f}-{interval[1]:.3f})"
        )
        recall = "-" if r.recall is None else f"{r.recall:.3f}"
        print(
            f"| {cal.class_key} | {p.n} | {cal.threshold:.2f} | {p.value:.3f} ({p.lower:.3f}) "
            f"| {r.boxes} | {shown} | {recall} | {_yes(r.reached(target))} "
            f"| {_yes(r.consistent(target))} | {_yes(r.enough)} |"
        )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def calibration_tables(
    coco: CocoSet,
    detected: list[Detected],
    targets: list[float],
    class_of: Callable[[str], str] | None = None,
) -> None:
    fixed = split_tallies(coco, detected, SPLIT_SEED, class_of)
    splits = [split_tallies(coco, detected, seed, class_of) for seed in range(REPEATS)]
    full = quality_figures(coco, detected, None, class_of).tally
    for target in targets:
        for direction, rows in held_out(fixed, target).items():
            print(f"Target {target}, halves {direction} (calibrated -> held out)\n")
            _table(rows, target)
            enough = [r for r in rows if r.enough]
            unreachable = [r.calibration for r in rows if not r.calibration.reachable]
            needs = sorted(c.more_boxes for c in unreachable if c.more_boxes is not None)
            median = needs[len(needs) // 2] if needs else "-"
            print(
                f"\n{sum(r.reached(target) for r in enough)} of {len(enough)} classes with "
                f"enough boxes reach the target on held-out data, "
                f"{sum(r.consistent(target) for r in enough)} are consistent with it. "
                f"{len(unreachable)} of {len(rows)} classes not reachable on the calibration "
                f"half (median estimate: {median} more reviewed boxes).\n"
            )
        print(
            "| thresholds | calibrations | enough held-out boxes | reach (point) | consistent "
            "(95%) | held-out precision pooled |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        repeated("calibrated on one half", splits, target, held_out)
        repeated("exact over all photos (oracle)", splits, target, _fixed(oracle(full, target)))
        print()


def _fixed(
    thresholds: list[Calibration],
) -> Callable[[dict[str, ScopeTally], float], dict[str, list[HeldOut]]]:
    """The same thresholds applied to each held-out half, whatever the split."""
    return lambda tallies, _target: {
        f"{a}->{b}": [_apply(c, tallies[b]) for c in thresholds] for a, b in DIRECTIONS
    }


def repeated(
    name: str,
    splits: list[dict[str, ScopeTally]],
    target: float,
    rule: Callable[[dict[str, ScopeTally], float], dict[str, list[HeldOut]]],
) -> None:
    """One row over REPEATS random splits x 2 directions: how often a threshold holds."""
    enough = reached = consistent = reachable = hits = boxes = 0
    for tallies in splits:
        for rows in rule(tallies, target).values():
            reachable += sum(r.calibration.reachable for r in rows)
            for r in (r for r in rows if r.enough):
                enough += 1
                reached += r.reached(target)
                consistent += r.consistent(target)
                hits += r.hits
                boxes += r.boxes
    pooled = f"{hits / boxes:.3f} over {boxes} boxes" if boxes else "-"
    print(
        f"| {name} | {reachable} | {enough} | {_rate(reached, enough)} "
        f"| {_rate(consistent, enough)} | {pooled} |"
    )


def _rate(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})" if whole else "-"


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
