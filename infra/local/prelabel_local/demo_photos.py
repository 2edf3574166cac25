"""The demo's dataset: real photos that a registry package ships, as JPEG files.

scikit-image bundles a few photographs in its wheel (no download): the astronaut (a person),
Chelsea the cat, a motorcycle, a cameraman (grayscale), a cup of coffee and a rocket launch.
One more is the astronaut stored rotated with an EXIF orientation tag, as a phone writes it: the
detector must report its boxes in the upright picture, and the preview must draw them there.
The COCO validation photos under ../shared/data/coco-val-sample are added when present.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
# The COCO validation photos added to the samples when the shared folder is there.
COCO_SAMPLE = ROOT.parent / "shared" / "data" / "coco-val-sample"
# EXIF tag 0x0112; 6 = "rotate 90 degrees clockwise to display".
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Photo:
    name: str  # file name in the dataset, e.g. "astronaut.jpg"
    body: bytes
    source: str  # where it comes from, for the summary


def _jpeg(image: Image.Image, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    if exif is None:
        image.save(buffer, "JPEG", quality=92)
    else:
        image.save(buffer, "JPEG", quality=92, exif=exif)
    return buffer.getvalue()


def _skimage_samples() -> list[tuple[str, Callable[[], Any]]]:
    from skimage import data

    def motorcycle() -> Any:
        return data.stereo_motorcycle()[0]  # type: ignore[no-untyped-call]

    return [
        ("astronaut", data.astronaut),
        ("chelsea", data.chelsea),
        ("motorcycle", motorcycle),
        ("camera", data.camera),
        ("coffee", data.coffee),
        ("rocket", data.rocket),
    ]


def skimage_photos() -> Iterator[Photo]:
    for name, load in _skimage_samples():
        image = Image.fromarray(load())
        yield Photo(f"{name}.jpg", _jpeg(image), f"skimage.data.{name}")
        if name == "astronaut":
            # Pixels stored a quarter turn counter-clockwise; the tag turns them back upright.
            exif = Image.Exif()
            exif[EXIF_ORIENTATION] = 6
            rotated = image.transpose(Image.Transpose.ROTATE_90)
            yield Photo(
                "astronaut_exif_rotated.jpg",
                _jpeg(rotated, exif),
                "skimage.data.astronaut, stored rotated with EXIF orientation 6",
            )


def folder_photos(folder: Path, limit: int | None = None) -> Iterator[Photo]:
    files = sorted(p for p in folder.glob("*.jpg") if p.is_file())
    for path in files[:limit]:
        yield Photo(path.name, path.read_bytes(), str(path))


def demo_photos(coco_dir: Path | None, coco_limit: int | None = None) -> list[Photo]:
    photos = list(skimage_photos())
    if coco_dir is not None and coco_dir.is_dir():
        photos += [
            Photo(f"coco/{p.name}", p.body, p.source) for p in folder_photos(coco_dir, coco_limit)
        ]
    return photos
