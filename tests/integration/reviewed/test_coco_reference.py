"""COCO's own human labels (`shared/data/coco-mini-train`) read as reviewed labels agree with
pycocotools, the reference COCO reader: the same images, boxes, classes and crowd flags. The
quality report's AP50 is checked against COCOeval on these boxes, so they must be the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from pycocotools.coco import COCO

from prelabel.reviewed import ReviewFormat, read_reviewed

INSTANCES = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "coco-mini-train" / "instances.json"
)


@pytest.fixture(scope="module")
def reference() -> COCO:
    return COCO(str(INSTANCES))


def test_coco_mini_train_reads_as_pycocotools_reads_it(reference: COCO) -> None:
    # Given COCO's instances file for 80 train2017 photos (739 objects, polygons and crowds)
    # When Prelabel reads it as reviewed labels
    read = read_reviewed(INSTANCES.read_bytes(), ReviewFormat.COCO)
    # Then every image is there, named by its file name, with its size
    assert len(read.images) == len(reference.getImgIds()) == 80
    names = {c["id"]: c["name"] for c in reference.loadCats(reference.getCatIds())}
    for image in read.images:
        (meta,) = [
            m
            for m in reference.loadImgs(reference.getImgIds())
            if m["file_name"] == image.ref.file_name
        ]
        assert image.size == (meta["width"], meta["height"])
        # And each object's box, class and crowd flag are pycocotools' (bbox x, y, w, h)
        anns = reference.loadAnns(reference.getAnnIds(imgIds=[meta["id"]], iscrowd=None))
        want = sorted(
            (
                names[a["category_id"]],
                round(a["bbox"][0], 3),
                round(a["bbox"][1], 3),
                round(a["bbox"][0] + a["bbox"][2], 3),
                round(a["bbox"][1] + a["bbox"][3], 3),
                bool(a["iscrowd"]),
            )
            for a in anns
        )
        got = sorted(
            (b.label, *(round(v, 3) for v in b.box.as_list()), b.crowd) for b in image.boxes
        )
        assert got == want, image.ref.file_name
    # And nothing was dropped or clipped
    report = read.report
    assert report.boxes_found == sum(len(i.boxes) for i in read.images) == 739
    assert report.boxes_dropped == 0
    assert report.findings == {}
    assert sum(b.crowd for i in read.images for b in i.boxes) == 8
