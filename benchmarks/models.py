"""Uploaded-model families: speed against the yolox backend, validation, cold load, memory, AP.

Run from the repository root (the test-model builders live in tests/model_files.py):

    .venv/bin/python -m benchmarks.models [--seconds 2.5] [--threads 1] [--batch 8]

Every family model is the shared YOLOX-Nano re-emitted in that family's layout, so:

- images/s: the handler chain (decode, prepare, run, decode by family, NMS, JSON) on COCO
  JPEGs, one ONNX Runtime thread; each family's calls alternate with the `yolox` model's for
  the same seconds, and the ratio is of their medians (other work on the machine moves both);
- validation: `validate_model` wall time (a fresh child process: interpreter, imports, checks,
  session, probe), and the child's own load and probe times and peak memory;
- cold load: TargetModel to ready in the model store (unpack the .tar.gz, ONNX Runtime session,
  warm-up image) for 8 requests arriving at once, in this process, with the loads that took
  (1: the others wait for it) and the requests that waited;
- memory: resident memory a loaded model adds to a fresh process (after load + warm-up, and
  after one batch), measured in a child per family;
- AP / AP50: pycocotools COCOeval (bbox) on coco-mini-train's 80 photos and 739 boxes at a
  0.01 score floor (the graph NMS floor of the boxes-scores-labels models); families of the
  same network must agree within 0.005. The custom-class model is scored on its 3 classes,
  beside the yolox model scored on the same 3.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prelabel.detector_wire import encode_batch
from prelabel_detector.artifact import build_model_artifact
from prelabel_detector.coco import COCO91_IDS
from prelabel_detector.descriptor import DESCRIPTOR_NAME, Descriptor
from prelabel_detector.handler import LoadedModel, input_fn, load_model, output_fn, predict_fn
from prelabel_detector.multimodel import load_folder
from prelabel_detector.sources import FolderSource
from prelabel_detector.store import ModelStore, resident_bytes
from prelabel_detector.validation import Limits, validate_model
from tests.model_files import CUSTOM_KEEP, FAMILY_MODELS, build, declaration, write_model_dir

SHARED = Path(__file__).resolve().parents[2] / "shared"
VAL_DIR = SHARED / "data" / "coco-val-sample"
TRAIN_DIR = SHARED / "data" / "coco-mini-train"
AP_FLOOR = 0.01
BASELINE = "yolox"


def paired(
    baseline: Callable[[], object], other: Callable[[], object], seconds: float
) -> tuple[float, float]:
    """Median seconds per call of each, calls alternating so both see the same machine."""
    baseline()
    other()
    first: list[float] = []
    second: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(first) < 5 or time.perf_counter() < deadline:
        for call, durations in ((baseline, first), (other, second)):
            start = time.perf_counter()
            call()
            durations.append(time.perf_counter() - start)
    return statistics.median(first), statistics.median(second)


def handler_call(model: LoadedModel, images: list[bytes]) -> Callable[[], bytes]:
    body, content_type = encode_batch(images)

    def call() -> bytes:
        return output_fn(predict_fn(input_fn(body, content_type), model), None)

    return call


def speeds(
    models: dict[str, LoadedModel], images: list[bytes], seconds: float
) -> dict[str, tuple[float, float]]:
    """Images/s per family, and its speed relative to the yolox model's in the same calls."""
    baseline = handler_call(models[BASELINE], images)
    found = {}
    for name, model in models.items():
        base, own = paired(baseline, handler_call(model, images), seconds)
        found[name] = (len(images) / own, base / own)
    return found


def coco_ap(model: LoadedModel, keep: dict[int, int] | None = None) -> tuple[float, float]:
    """bbox AP and AP50 on coco-mini-train; `keep`: model class -> COCO-80 index to score."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO(str(TRAIN_DIR / "instances.json"))
    image_ids = sorted(truth.getImgIds())
    found: list[dict[str, Any]] = []
    for image_id in image_ids:
        info = truth.loadImgs(image_id)[0]
        body, content_type = encode_batch(
            [(TRAIN_DIR / "images" / info["file_name"]).read_bytes()], score_floor=AP_FLOOR
        )
        (result,) = predict_fn(input_fn(body, content_type), model).results
        for d in result.detections:
            index = d.class_id if keep is None else keep.get(d.class_id)
            if index is None:
                continue
            x1, y1, x2, y2 = d.box
            found.append(
                {
                    "image_id": image_id,
                    "category_id": COCO91_IDS[index],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": d.score,
                }
            )
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(truth, truth.loadRes(found), "bbox")
        evaluation.params.imgIds = image_ids
        if keep is not None:
            evaluation.params.catIds = sorted(COCO91_IDS[i] for i in keep.values())
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0]), float(evaluation.stats[1])


def memory_probe(folder: str) -> None:
    """Child mode: RSS before, after load + warm-up, after one batch of 8 COCO photos."""
    images = [p.read_bytes() for p in sorted(VAL_DIR.glob("*.jpg"))[:8]]
    before = resident_bytes()
    model = load_folder(Path(folder), threads=1)
    loaded = resident_bytes()
    handler_call(model, images)()
    print(json.dumps({"before": before, "loaded": loaded, "ran": resident_bytes()}))


def memory_of(folder: Path) -> dict[str, int]:
    command = [sys.executable, "-m", "benchmarks.models", "--memory-probe", str(folder)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    doc: dict[str, int] = json.loads(output.strip().splitlines()[-1])
    return doc


def cold_load(root: Path, name: str, data: bytes) -> tuple[float, int, int]:
    """TargetModel -> ready for 8 requests arriving at once: unpack, session, warm-up.

    Returns the time until all 8 have the model, the loads that took, and the requests that
    waited for another's load.
    """
    sha = hashlib.sha256(data).hexdigest()
    onnx_file = root / f"{sha}.onnx"
    onnx_file.write_bytes(data)
    target = f"org/{name}/{sha}.tar.gz"
    build_model_artifact(onnx_file, declaration(name), name, sha, root / "prefix" / target)
    source = FolderSource(root / "prefix", cache=root / f"cache-{name}")
    store: ModelStore[LoadedModel] = ModelStore(lambda f: load_folder(f, 1), 8 << 30)
    store.register(target, lambda: source.fetch(target))
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: store.get(target), range(8)))
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, store.figures.loads, store.figures.waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=6.0, help="per family, paired calls")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-models-"))
    folders, models, rows = {}, {}, {}
    for name in FAMILY_MODELS:
        data = build(name)
        folders[name] = write_model_dir(tmp / name, data, declaration(name), name, "bench")
        models[name] = load_model(Descriptor.load(folders[name] / DESCRIPTOR_NAME), args.threads)
        validation = validate_model(folders[name] / "model.onnx", declaration(name), Limits())
        rows[name] = {
            "size_mb": len(data) / 1e6,
            "validation": validation,
            "cold": cold_load(tmp, name, data),
            "memory": memory_of(folders[name]),
        }
    images = [p.read_bytes() for p in sorted(VAL_DIR.glob("*.jpg"))[: args.batch]]
    for name, (per_second, ratio) in speeds(models, images, args.seconds).items():
        rows[name]["speed"], rows[name]["ratio"] = per_second, ratio
    keep = {index: coco for index, coco in enumerate(CUSTOM_KEEP)}
    for name, model in models.items():
        rows[name]["ap"] = coco_ap(model, keep if name == "custom-classes" else None)
    yolox_on_custom = coco_ap(models[BASELINE], {c: c for c in CUSTOM_KEEP})
    report(rows, yolox_on_custom, args)


def report(
    rows: dict[str, dict[str, Any]], yolox_on_custom: tuple[float, float], args: Any
) -> None:
    print(
        f"\nbatch {args.batch} COCO JPEGs, {args.threads} ONNX Runtime thread(s); AP on "
        f"coco-mini-train (80 photos) at floor {AP_FLOOR}\n"
    )
    head = (
        "| model | img/s | vs yolox | validation ms (load, probe) | validation peak MB | "
        "cold load ms (loads, waits) | memory MB (loaded, after a batch) | AP | AP50 |"
    )
    print(head)
    print("|" + " --- |" * 9)
    base_ap = rows[BASELINE]["ap"]
    for name, row in rows.items():
        v = row["validation"]
        memory = row["memory"]
        loaded = (memory["loaded"] - memory["before"]) / 2**20
        ran = (memory["ran"] - memory["before"]) / 2**20
        ap, ap50 = row["ap"]
        cold_ms, loads, waits = row["cold"]
        print(
            f"| {name} | {row['speed']:.1f} | {row['ratio']:.2f} | {v.wall_ms:.0f} "
            f"({v.load_ms:.0f}, {v.probe_ms:.0f}) | {(v.peak_memory_bytes or 0) / 2**20:.0f} | "
            f"{cold_ms:.0f} ({loads}, {waits}) | {loaded:.0f}, {ran:.0f} | {ap:.4f} | {ap50:.4f} |"
        )
    print("\nAP differences against yolox (same network):")
    for name, row in rows.items():
        if name not in (BASELINE, "custom-classes"):
            ap, ap50 = row["ap"][0] - base_ap[0], row["ap"][1] - base_ap[1]
            print(f"  {name}: AP {ap:+.4f}, AP50 {ap50:+.4f}")
    custom = rows["custom-classes"]["ap"]
    print(
        f"  custom-classes on its 3 classes: AP {custom[0]:.4f} / AP50 {custom[1]:.4f}; "
        f"yolox on the same 3: {yolox_on_custom[0]:.4f} / {yolox_on_custom[1]:.4f}"
    )


if __name__ == "__main__":
    main()
