"""A pre-labeled project over the fakes, made the way a user makes one: images in S3, a
dataset connected (its import job makes derived task ids), tasks moved to WAITING, a run of
the scripted detector; and reviewed-label files in the formats people bring back."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from prelabel.detector_wire import Detection
from prelabel.domain.dataset_sources import DatasetSource
from prelabel.domain.entities import LabelingState, ProjectRef
from prelabel.domain.jobs import Job, JobStatus
from prelabel.domain.locations import OrgLocations
from prelabel.domain.mapping import MappingRowInput
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.ports.tasks import Move
from prelabel.services.jobs.review_ports import ReviewLimits
from prelabel.services.organizations import OrganizationAdmin
from prelabel.services.reviewed_imports import ImportRequest
from tests.unit.fakes.outside import ScriptedDetector
from tests.unit.fakes.world import CONFIG, World

ORG = "acme"
BUCKET = "data"
CAR_BOX = (10.0, 10.0, 50.0, 40.0)
PERSON_BOX = (60.0, 5.0, 90.0, 60.0)
# Images 128 px wide: 96 high ones get a car scored 0.9, 64 high ones a car scored 0.35 (the
# worker shrinks both to 64 wide, so the detector tells them apart by height); every image
# gets a person scored 0.8.
HIGH, LOW = 0.9, 0.35


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 140, 160)).save(out, "JPEG")
    return out.getvalue()


def detections(payload: bytes) -> list[Detection]:
    height = Image.open(io.BytesIO(payload)).size[1]
    # Boxes are in the sent image's pixels; the worker maps them back (x2 here).
    car = Detection(2, "car", HIGH if height >= 40 else LOW, tuple(v / 2 for v in CAR_BOX))  # type: ignore[arg-type]
    person = Detection(0, "person", 0.8, tuple(v / 2 for v in PERSON_BOX))  # type: ignore[arg-type]
    return [car, person]


@dataclass(frozen=True)
class Shot:
    """An image of the project: its key, size, and the car score the detector gives it."""

    key: str
    width: int
    height: int

    @property
    def car_score(self) -> float:
        return HIGH if self.height == 96 else LOW


class ReviewWorld(World):
    ref: ProjectRef
    locs: OrgLocations
    shots: list[Shot]

    def make_project(
        self,
        high: int,
        low: int = 0,
        *,
        folders: Sequence[str] = ("cam",),
        extra_keys: Sequence[str] = (),
    ) -> None:
        """`high` then `low` images spread over `folders` (each its own dataset), and images
        at `extra_keys` that are no shot of the test's."""
        OrganizationAdmin(self.orgs, DEFAULT_MONTHLY_LIMITS).create(
            ORG, "Acme", Plan.TEAM_PRO, period="2026-11"
        )
        self.orgs.set_remaining(ORG, 10_000)
        self.ref = self.project_service.create(ORG, "Streets", CONFIG).ref
        self.project_service.replace_mapping(
            self.ref,
            [MappingRowInput("car", "veh", 0.3), MappingRowInput("person", "per", None)],
            0.5,
        )
        self.locs = self.locations.locations(ORG)
        self.shots = []
        for i in range(high + low):
            folder = folders[i % len(folders)]
            shot = Shot(f"{ORG}/{folder}/img_{i:03d}.jpg", 128, 96 if i < high else 64)
            self.objects.put(BUCKET, shot.key, jpeg(shot.width, shot.height))
            self.shots.append(shot)
        for key in extra_keys:
            self.objects.put(BUCKET, key, jpeg(128, 96))
        for folder in dict.fromkeys(folders):
            _, job = self.dataset_service.connect(
                self.locs, self.ref, DatasetSource(BUCKET, prefix=f"{ORG}/{folder}/")
            )
            assert self.loop.run(job).status is JobStatus.SUCCEEDED

    def prelabel(self, keys: Iterable[str] | None = None) -> str:
        """Move the tasks of `keys` (all: None) to WAITING and pre-label them in one run."""
        wanted = None if keys is None else set(keys)
        ids = [
            t.task_id
            for (r, _), t in sorted(self.db.tasks.items())
            if r == self.ref and (wanted is None or t.image_key in wanted)
        ]
        self.tasks.move(self.ref, ids, Move(LabelingState.BACKLOG, LabelingState.WAITING))
        run = self.run_service.start(self.ref, confirm=True).run
        assert run is not None
        self.prepare(self.ref, run.run_id)
        self.run_all(run.run_id)
        self.run_service.finish(self.ref, run.run_id)
        return run.run_id

    def task_of(self, key: str) -> str:
        (found,) = [
            t.task_id for (r, _), t in self.db.tasks.items() if r == self.ref and t.image_key == key
        ]
        return found

    def upload(self, name: str, data: bytes) -> str:
        ticket = self.reviewed_import_service.upload(self.ref, name)
        self.objects.put(ticket.bucket, ticket.key, data)
        return ticket.key

    def import_file(self, name: str, data: bytes, **options: Any) -> Job:
        key = self.upload(name, data)
        job = self.reviewed_import_service.start(self.locs, self.ref, ImportRequest(key, **options))
        return self.loop.run(job)


@pytest.fixture
def rw() -> ReviewWorld:
    return ReviewWorld(detector=ScriptedDetector(answer=detections), bucket=BUCKET)


def with_limits(world: ReviewWorld, **limits: int) -> None:
    """Smaller slices, so that a few images take several steps (set before any job runs)."""
    ports = world.review_ports
    ports.limits = ReviewLimits(**limits)  # type: ignore[arg-type]


Corners = tuple[float, float, float, float]


def coco(images: Sequence[tuple[str, int, int, Sequence[tuple[str, Corners]]]]) -> bytes:
    """A COCO document: per image its file_name, size and (category name, corners) boxes."""
    names = sorted({name for *_, boxes in images for name, _ in boxes})
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(names)]
    ids = {n: i + 1 for i, n in enumerate(names)}
    doc: dict[str, Any] = {"images": [], "annotations": [], "categories": cats}
    for i, (file_name, w, h, boxes) in enumerate(images, start=1):
        doc["images"].append({"id": i, "file_name": file_name, "width": w, "height": h})
        for name, (x1, y1, x2, y2) in boxes:
            doc["annotations"].append(
                {
                    "id": len(doc["annotations"]) + 1,
                    "image_id": i,
                    "category_id": ids[name],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                    "iscrowd": 0,
                }
            )
    return json.dumps(doc).encode()
