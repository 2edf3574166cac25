"""Reading reviewed labels: memory and speed of `read_reviewed` per format and file size.

Run: .venv/bin/python benchmarks/reviewed.py [--sizes 10000 50000] [--boxes 5]

Synthetic files as the review tools write them (COCO JSON as CVAT writes it, Label Studio's
JSON export with a prediction and one annotation per task, a Pascal VOC zip), N images of
1920x1080 with `--boxes` boxes each. For each format and N:

- file MB: the file's size;
- time: wall seconds of a read without tracing, and images per second;
- peak: tracemalloc's peak of Python allocations during a second, traced read, in MB, and
  per MB of file: what `ReadLimits.max_file_bytes` costs in memory at the limit;
- baseline: the peak of `json.loads` alone on the same bytes (for the zip, of holding the
  bytes), measured in the same run: the part of the peak any JSON reader pays.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from typing import Any

from prelabel.reviewed import ReviewFormat, read_reviewed

W, H = 1920, 1080
NAMES = ("Vehicle", "Person", "Animal")


def _boxes(i: int, n: int) -> list[tuple[str, float, float, float, float]]:
    return [
        (NAMES[(i + k) % 3], 10.0 + k * 50, 20.0 + k * 40, 120.5 + k * 50, 200.25) for k in range(n)
    ]


def coco(images: int, boxes: int) -> bytes:
    doc: dict[str, Any] = {
        "categories": [{"id": k + 1, "name": n, "supercategory": ""} for k, n in enumerate(NAMES)],
        "images": [],
        "annotations": [],
    }
    for i in range(images):
        doc["images"].append(
            {
                "id": i + 1,
                "width": W,
                "height": H,
                "file_name": f"cam{i % 50}/{i:07d}.jpg",
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
        )
        for name, x1, y1, x2, y2 in _boxes(i, boxes):
            doc["annotations"].append(
                {
                    "id": len(doc["annotations"]) + 1,
                    "image_id": i + 1,
                    "category_id": NAMES.index(name) + 1,
                    "segmentation": [],
                    "area": (x2 - x1) * (y2 - y1),
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "iscrowd": 0,
                    "attributes": {"occluded": False, "rotation": 0.0},
                }
            )
    return json.dumps(doc).encode()


def _region(name: str, x1: float, y1: float, x2: float, y2: float, k: int) -> dict[str, Any]:
    return {
        "id": f"r{k}",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": W,
        "original_height": H,
        "image_rotation": 0,
        "origin": "manual",
        "value": {
            "x": x1 / W * 100,
            "y": y1 / H * 100,
            "width": (x2 - x1) / W * 100,
            "height": (y2 - y1) / H * 100,
            "rotation": 0,
            "rectanglelabels": [name],
        },
    }


def label_studio(images: int, boxes: int) -> bytes:
    tasks = []
    for i in range(images):
        result = [_region(*b, k) for k, b in enumerate(_boxes(i, boxes))]
        tasks.append(
            {
                "id": i + 1,
                "data": {
                    "image": f"s3://data/cam{i % 50}/{i:07d}.jpg",
                    "prelabel_task_id": f"t{i}",
                },
                "predictions": [{"model_version": "yolox 1", "score": 0.8, "result": result}],
                "annotations": [
                    {
                        "id": i + 1,
                        "result": result,
                        "was_cancelled": False,
                        "created_at": "2026-11-04T08:00:00Z",
                        "updated_at": "2026-11-04T08:00:00Z",
                    }
                ],
            }
        )
    return json.dumps(tasks).encode()


def voc(images: int, boxes: int) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(images):
            objects = "".join(
                f"<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin>"
                f"<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>"
                for n, x1, y1, x2, y2 in _boxes(i, boxes)
            )
            archive.writestr(
                f"Annotations/{i:07d}.xml",
                f"<annotation><filename>{i:07d}.jpg</filename><size><width>{W}</width>"
                f"<height>{H}</height></size>{objects}</annotation>",
            )
    return sink.getvalue()


def peak_of(action: Callable[[], object]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def row(fmt: ReviewFormat, data: bytes, images: int) -> str:
    start = time.perf_counter()
    read = read_reviewed(data, fmt)
    seconds = time.perf_counter() - start
    assert len(read.images) == images
    peak = peak_of(lambda: read_reviewed(data, fmt))
    if fmt in (ReviewFormat.COCO, ReviewFormat.LABEL_STUDIO):
        baseline = peak_of(lambda: json.loads(data))
    else:
        baseline = len(data) / 1e6
    mb = len(data) / 1e6
    return (
        f"| {fmt.value} | {images:,} | {mb:.1f} | {seconds:.2f} | {images / seconds:,.0f} | "
        f"{peak:.0f} | {peak / mb:.1f} | {baseline:.0f} | {peak / baseline:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--boxes", type=int, default=5)
    args = parser.parse_args()
    print(
        "| format | images | file MB | read s | images/s | peak MB | peak MB per file MB "
        "| baseline MB | peak / baseline |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    makers = {
        ReviewFormat.COCO: coco,
        ReviewFormat.LABEL_STUDIO: label_studio,
        ReviewFormat.VOC: voc,
    }
    for fmt, make in makers.items():
        for n in args.sizes:
            print(row(fmt, make(n, args.boxes), n), flush=True)


if __name__ == "__main__":
    main()
