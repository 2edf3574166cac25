"""Open the demo's exports with the libraries their users load them with, and say what each read.

    python -m prelabel_local.export_check [out/]

Expects the folder `make demo` writes: `coco.json` with its images under `coco_images/`, and
the unpacked `yolo/`, `yolo_flat/`, `voc/` (images in place) and `labelstudio/`. pycocotools,
supervision and label-studio-sdk come with the dev extra; a missing one is reported, not fatal.
Ultralytics is not installed here (it brings PyTorch): for its layout the check applies
Ultralytics' own rule for finding an image's label file and reads the files it finds.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp"}

Check = Callable[[Path], dict[str, Any]]


def _boxes(ds: Any) -> int:
    return sum(len(ds.annotations[p]) for p in ds.image_paths)


def _listed(folder: Path, found: int) -> None:
    """A loader that finds fewer images than the manifest lists has not read the export (the
    nested layouts of old read as zero images, without an error)."""
    listed = sum(1 for f in json.loads((folder / "prelabel_export.json").read_text())["files"])
    if found != listed:
        raise ValueError(f"read {found} of the {listed} images the manifest lists")


def check_pycocotools(out: Path) -> dict[str, Any]:
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):  # it prints its loading times
        coco = COCO(str(out / "coco.json"))
    return {
        "images": len(coco.getImgIds()),
        "boxes": len(coco.getAnnIds()),
        "classes": len(coco.getCatIds()),
    }


def check_supervision_coco(out: Path) -> dict[str, Any]:
    import supervision as sv

    ds = sv.DetectionDataset.from_coco(str(out / "coco_images"), str(out / "coco.json"))
    return {"images": len(ds), "boxes": _boxes(ds), "classes": len(ds.classes)}


def check_supervision_yolo_flat(out: Path) -> dict[str, Any]:
    import supervision as sv

    root = out / "yolo_flat"
    ds = sv.DetectionDataset.from_yolo(
        str(root / "images"), str(root / "labels"), str(root / "data.yaml")
    )
    _listed(root, len(ds))
    return {"images": len(ds), "boxes": _boxes(ds), "classes": len(ds.classes)}


def check_supervision_voc(out: Path) -> dict[str, Any]:
    import supervision as sv

    root = out / "voc"
    ds = sv.DetectionDataset.from_pascal_voc(str(root / "JPEGImages"), str(root / "Annotations"))
    _listed(root, len(ds))
    return {"images": len(ds), "boxes": _boxes(ds), "classes": len(ds.classes)}


def _ultralytics_label_path(image: Path) -> Path:
    # ultralytics.data.utils.img2label_paths: the last /images/ of the path becomes /labels/.
    sa, sb = "/images/", "/labels/"
    return Path(sb.join(str(image).rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt")


def check_ultralytics_layout(out: Path) -> dict[str, Any]:
    import yaml

    root = (out / "yolo").resolve()
    data = yaml.safe_load((root / "data.yaml").read_text())
    images_dir = root / data["train"]
    images = [p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    labels = [_ultralytics_label_path(p) for p in images]
    found = [p for p in labels if p.is_file()]
    _listed(root, len(found))
    boxes = sum(len(p.read_text().splitlines()) for p in found)
    return {
        "images": len(images),
        "with_label_file": len(found),
        "boxes": boxes,
        "classes": len(data["names"]),
    }


def check_label_studio(out: Path) -> dict[str, Any]:
    from label_studio_sdk.label_interface.interface import LabelInterface

    root = out / "labelstudio"
    # The SDK's methods carry no annotations.
    interface: Any = LabelInterface((root / "labeling_config.xml").read_text())
    interface.validate()
    tasks = json.loads((root / "tasks.json").read_text())
    predictions = [p for t in tasks for p in t.get("predictions", [])]
    errors = [e for p in predictions for e in interface.validate_prediction(p, return_errors=True)]
    return {
        "tasks": len(tasks),
        "predictions": len(predictions),
        "boxes": sum(len(p["result"]) for p in predictions),
        "invalid": len(errors),
        "labels": len(interface.get_control("label").labels or []),
    }


def _by_task(ds: Any, task_of: dict[str, str], sizes: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Task id -> sorted (class, x1, y1, x2, y2), clipped to the image as YOLO and VOC are."""
    out = {}
    for path in ds.image_paths:
        task_id = task_of[str(Path(path).resolve())]
        w, h = sizes[task_id]
        d = ds.annotations[path]
        boxes = []
        for (x1, y1, x2, y2), c in zip(d.xyxy, d.class_id, strict=True):
            clip = [min(max(float(v), 0.0), lim) for v, lim in ((x1, w), (y1, h), (x2, w), (y2, h))]
            boxes.append((ds.classes[int(c)], *clip))
        out[task_id] = sorted(boxes)
    return out


def _max_difference(a: list[Any], b: list[Any]) -> float:
    return max(
        (abs(x - y) for p, q in zip(a, b, strict=True) for x, y in zip(p[1:], q[1:], strict=True)),
        default=0.0,
    )


def check_agreement(out: Path) -> dict[str, Any]:
    """supervision's reading of flat YOLO and VOC against its reading of COCO, image by image:
    how many images have the same classes, and the largest corner difference in pixels."""
    import supervision as sv

    doc = json.loads((out / "coco.json").read_text())
    sizes = {i["prelabel_task_id"]: (i["width"], i["height"]) for i in doc["images"]}
    images = (out / "coco_images").resolve()
    coco_of = {str(images / i["file_name"]): i["prelabel_task_id"] for i in doc["images"]}
    coco_ds = sv.DetectionDataset.from_coco(str(images), str(out / "coco.json"))
    coco = _by_task(coco_ds, coco_of, sizes)
    flat, voc = out / "yolo_flat", out / "voc"
    others = {
        "yolo_flat": sv.DetectionDataset.from_yolo(
            str(flat / "images"), str(flat / "labels"), str(flat / "data.yaml")
        ),
        "voc": sv.DetectionDataset.from_pascal_voc(
            str(voc / "JPEGImages"), str(voc / "Annotations")
        ),
    }
    results: dict[str, Any] = {}
    for fmt, ds in others.items():
        manifest = json.loads((out / fmt / "prelabel_export.json").read_text())
        task_of = {str((out / fmt / f["image"]).resolve()): f["task_id"] for f in manifest["files"]}
        boxes = _by_task(ds, task_of, sizes)
        same = [t for t in boxes if [b[0] for b in boxes[t]] == [b[0] for b in coco.get(t, [])]]
        results[f"{fmt}_images_same_classes"] = f"{len(same)}/{len(coco)}"
        results[f"{fmt}_max_px"] = round(
            max((_max_difference(boxes[t], coco[t]) for t in same), default=0.0), 3
        )
    return results


CHECKS: dict[str, Check] = {
    "pycocotools COCO(coco.json)": check_pycocotools,
    "supervision from_coco": check_supervision_coco,
    "supervision from_yolo (yolo_flat)": check_supervision_yolo_flat,
    "supervision from_pascal_voc (voc)": check_supervision_voc,
    "Ultralytics label rule (yolo)": check_ultralytics_layout,
    "label-studio-sdk LabelInterface": check_label_studio,
    "supervision: YOLO and VOC vs COCO": check_agreement,
}


def check_exports(out: Path) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check(out)
        except ImportError as exc:
            results[name] = {"error": f"not installed: {exc.name}"}
        except Exception as exc:  # a reader refusing an export is the finding, not a crash
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def format_results(results: dict[str, dict[str, Any]]) -> list[str]:
    width = max(len(name) for name in results)
    return [
        f"  {name:<{width}}  " + ", ".join(f"{k} {v}" for k, v in counts.items())
        for name, counts in results.items()
    ]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "out")
    results = check_exports(out)
    for line in format_results(results):
        print(line)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
