"""Every export format keeps the model name and version of an uploaded model's pre-labels (its
version is the file's sha256): COCO and Pascal VOC on each box, Label Studio on each
prediction, YOLO (whose lines have no room) in the archive's prelabel_export.json."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace
from xml.etree import ElementTree

import pytest

from prelabel.export_formats import ExportFormat
from tests.unit.exports.samples import CAR, PERSON, PROJECT, export, task

SHA = "5036f64b30894fa1744bb68df0f3145408dcf19d5bd91807f1a94dc0c19bb67d"
OWN = (replace(CAR, model_name="Forklifts", model_version=SHA, detector_class="forklift"),
       replace(PERSON, model_name="Forklifts", model_version=SHA, detector_class="worker"))  # fmt: skip
TASKS = (task("t1", "yard/a.jpg", OWN),)


def _member(data: bytes, suffix: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.endswith(suffix))
        return archive.read(name)


def test_coco_keeps_name_and_version_on_every_annotation() -> None:
    # Given pre-labels of an uploaded model; When exported as COCO
    data, _ = export(PROJECT, TASKS, ExportFormat.COCO)
    # Then each annotation names the model and its sha256 version
    annotations = json.loads(data)["annotations"]
    assert {(a["model_name"], a["model_version"]) for a in annotations} == {("Forklifts", SHA)}


def test_voc_keeps_them_on_every_object() -> None:
    # Given the same pre-labels; When exported as Pascal VOC
    data, _ = export(PROJECT, TASKS, ExportFormat.VOC)
    # Then each object element carries them
    root = ElementTree.fromstring(_member(data, ".xml"))  # noqa: S314 - our own export
    found = {(o.findtext("model_name"), o.findtext("model_version")) for o in root.iter("object")}
    assert found == {("Forklifts", SHA)}


def test_label_studio_names_the_prediction_by_model_and_version() -> None:
    # Given the same pre-labels; When exported for Label Studio
    data, _ = export(PROJECT, TASKS, ExportFormat.LABEL_STUDIO)
    # Then the task's prediction is that model version's
    tasks = json.loads(_member(data, "tasks.json"))
    assert [p["model_version"] for p in tasks[0]["predictions"]] == [f"Forklifts {SHA}"]


@pytest.mark.parametrize("fmt", [ExportFormat.YOLO, ExportFormat.YOLO_FLAT])
def test_yolo_archives_list_the_model_of_each_file_in_their_manifest(fmt: ExportFormat) -> None:
    # Given the same pre-labels; When exported as YOLO (five columns, no room for a model)
    data, _ = export(PROJECT, TASKS, fmt)
    # Then the archive's manifest names the model and version for the image's label file
    manifest = json.loads(_member(data, "prelabel_export.json"))
    assert [f["models"] for f in manifest["files"]] == [[{"name": "Forklifts", "version": SHA}]]
