"""COCO JSON as tools other than Prelabel write it: COCO's own instances files, CVAT's rotation
attribute, crowd regions, polygons, and entries that do not hold together."""

from __future__ import annotations

import json
from typing import Any

import pytest

from prelabel.reviewed import Finding, ReviewedFileError, ReviewFormat, read_reviewed


def _doc(images: list[Any], annotations: list[Any], categories: list[Any] | None = None) -> bytes:
    cats = (
        categories
        if categories is not None
        else [{"id": 1, "name": "person", "supercategory": "person"}]
    )
    return json.dumps(
        {
            "info": {},
            "licenses": [],
            "images": images,
            "annotations": annotations,
            "categories": cats,
        }
    ).encode()


def _image(
    image_id: Any = 42, name: str = "000000000042.jpg", size: tuple[Any, Any] = (640, 480)
) -> dict[str, Any]:
    return {
        "id": image_id,
        "file_name": name,
        "width": size[0],
        "height": size[1],
        "license": 3,
        "coco_url": f"http://images.cocodataset.org/train2017/{name}",
    }


def _ann(ann_id: int, bbox: Any, image_id: Any = 42, **extra: Any) -> dict[str, Any]:
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "bbox": bbox,
        "iscrowd": 0,
        "area": 1.0,
        **extra,
    }


def test_cocos_own_instances_keep_the_bbox_of_polygon_objects_and_flag_crowds() -> None:
    # Given a COCO instances file: an object with its polygon and bbox, a crowd region (RLE),
    # and an annotation with a polygon only (no bbox)
    polygon = [[10.0, 10.0, 60.0, 10.0, 60.0, 40.0]]
    rle = {"counts": [0, 5, 10], "size": [480, 640]}
    annotations = [
        _ann(1, [10.0, 10.0, 50.0, 30.0], segmentation=polygon),
        _ann(2, [100.5, 200.25, 80.0, 40.0], segmentation=rle, iscrowd=1),
        {"id": 3, "image_id": 42, "category_id": 1, "segmentation": polygon, "iscrowd": 0},
    ]
    # When read
    read = read_reviewed(_doc([_image()], annotations), ReviewFormat.COCO)
    # Then both boxes come in, in pixels, the crowd one flagged
    (image,) = read.images
    assert [(b.box.as_list(), b.crowd) for b in image.boxes] == [
        ([10.0, 10.0, 60.0, 40.0], False),
        ([100.5, 200.25, 180.5, 240.25], True),
    ]
    # And the polygon-only annotation is skipped and counted, not a dropped box
    assert read.report.findings[Finding.NOT_A_BOX].examples == ("annotations[2]",)
    assert (read.report.boxes_found, read.report.boxes_dropped) == (2, 0)
    # And the image is named by its file name (COCO's coco_url is no S3 object of ours)
    assert (image.ref.written, image.ref.key, image.ref.file_name) == (
        "000000000042.jpg",
        "000000000042.jpg",
        "000000000042.jpg",
    )


def test_a_cvat_rotated_rectangle_becomes_the_box_around_it_turned_about_its_centre() -> None:
    # Given CVAT's COCO: a 200x100 rectangle at (100, 100) rotated 90 degrees
    ann = _ann(1, [100.0, 100.0, 200.0, 100.0], attributes={"occluded": False, "rotation": 90.0})
    # When read
    read = read_reviewed(_doc([_image()], [ann]), ReviewFormat.COCO)
    # Then the box stands upright around the same centre (200, 150)
    assert read.images[0].boxes[0].box.as_list() == pytest.approx([150.0, 50.0, 250.0, 250.0])
    assert read.report.count(Finding.ROTATED) == 1


def test_text_ids_and_sizes_without_values_are_read() -> None:
    # Given a tool that writes text ids and leaves width and height null
    image = _image("img-a", "a.jpg", (None, None))
    ann = {**_ann(1, [-5.0, 10.0, 20.0, 20.0], image_id="img-a"), "category_id": "c1"}
    read = read_reviewed(_doc([image], [ann], [{"id": "c1", "name": "cat"}]), ReviewFormat.COCO)
    # When read
    # Then the box is matched to its image and category by text id; with no size to clip to,
    # only its part left of x=0 is cut
    (image_read,) = read.images
    assert image_read.size is None
    assert [(b.label, b.box.as_list()) for b in image_read.boxes] == [
        ("cat", [0.0, 10.0, 15.0, 30.0])
    ]


def test_entries_that_do_not_hold_together_are_dropped_and_named() -> None:
    # Given an annotation of an unknown image, one of an unknown category, an image repeating
    # another's id (and a box on it), an image with a negative width, and a box on that image
    images = [_image(1, "a.jpg"), _image(1, "b.jpg"), _image(2, "c.jpg", (-640, 480))]
    categories = [{"id": 1, "name": "person"}, {"id": 2, "name": ""}]
    annotations = [
        _ann(1, [1, 1, 5, 5], image_id=99),
        _ann(2, [1, 1, 5, 5], image_id=1, category_id=7),
        _ann(3, [1, 1, 5, 5], image_id=1, category_id=2),
        _ann(4, [1, 1, 5, 5], image_id=2),
        _ann(5, [1, 1, 5, 5], image_id=1),
    ]
    # When read
    read = read_reviewed(_doc(images, annotations, categories), ReviewFormat.COCO)
    # Then image 1 (the first one) keeps its good box, the rest is reported by place
    assert [(i.ref.written, len(i.boxes), i.dropped) for i in read.images] == [("a.jpg", 1, 2)]
    findings = read.report.findings
    assert findings[Finding.MALFORMED_IMAGE].examples == (
        "images[1].id: 1 is the id of another image",
        "images[2].width: -640 is not a whole number of pixels up to 1,000,000",
    )
    assert findings[Finding.MALFORMED_BOX].examples == (
        "annotations[0].image_id: 99 is no image's id",
        "annotations[1].category_id: 7 is no category's id",
        "annotations[2].category_id: 2 is unreadable (categories[1].name: '' is not a non-empty text)",
    )
    assert findings[Finding.IMAGE_NOT_IMPORTED].examples == ("annotations[3]",)
    # And every box is counted once: found = kept + dropped
    assert read.report.boxes_found == 5 == 1 + read.report.boxes_dropped


def test_a_file_that_is_not_coco_is_refused_by_place() -> None:
    # Given JSON documents that are not COCO: a list, images not a list, annotations a dict
    cases = [
        (b"[]", r"file: not a COCO document"),
        (b'{"images": {}}', r"file: not a COCO document"),
        (b'{"images": [], "annotations": {}}', r"annotations: \{\} is not a list"),
        (b'{"images": [], "categories": 3}', r"categories: 3 is not a list"),
    ]
    for data, message in cases:
        # When read as COCO
        # Then each is refused, naming the place
        with pytest.raises(ReviewedFileError, match=message):
            read_reviewed(data, ReviewFormat.COCO)


def test_an_image_without_annotations_is_reviewed_and_empty() -> None:
    # Given two images, one with no annotation at all
    read = read_reviewed(
        _doc([_image(1, "a.jpg"), _image(2, "b.jpg")], [_ann(1, [1, 1, 5, 5], image_id=1)]),
        ReviewFormat.COCO,
    )
    # When read
    # Then both are reviewed images, the second with no boxes (people found no object)
    assert [(i.ref.written, len(i.boxes)) for i in read.images] == [("a.jpg", 1), ("b.jpg", 0)]
