"""Exports through the API handler on DynamoDB Local, with pre-labeled tasks written directly."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from prelabel.adapters.dynamodb.models import LabelAttr, TaskModel
from prelabel.services import exports as export_service
from prelabel.wiring import Ports
from prelabel_local import export as export_cli
from tests.integration.core.api_client import call

LABEL_CONFIG = [
    {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
    {"id": "road", "name": "Road", "geometry": "polygon"},
    {"id": "per", "name": "Person", "geometry": "bbox"},
]
# (task id, image key, size, [(entry id, box, score)]): what the pre-labeling worker would write.
TASKS = [
    (
        "t1",
        "acme/street/a.jpg",
        (640, 480),
        [("veh", [64, 48, 192, 144], 0.9), ("per", [1, 2, 30, 99], 0.6)],
    ),
    ("t2", "acme/street/b.jpg", (800, 600), [("veh", [0, 0, 800, 600], 0.75)]),
    ("t3", "acme/street/c.jpg", (320, 240), []),
    ("t4", "acme/street/d.jpg", None, []),
]


def _write_task(project_key: str, bucket: str, task_id: str, key: str, size, labels) -> None:  # type: ignore[no-untyped-def]
    TaskModel(
        project_key,
        task_id,
        dataset_id="ds1",
        dataset_key=f"{project_key}#ds1",
        bucket=bucket,
        image_key=key,
        state="WAITING",
        prelabel_state="DONE" if size else None,
        labels=[
            LabelAttr(
                label_id=f"{task_id}-{i}",
                entry_id=entry,
                entry_name={"veh": "Vehicle", "per": "Person"}[entry],
                box=box,
                detector_class="car" if entry == "veh" else "person",
                score=score,
                model_name="yolox-s",
                model_version="0.4.4",
                source="AI_PRE_LABEL",
            )
            for i, (entry, box, score) in enumerate(labels)
        ],
        image_width=size[0] if size else None,
        image_height=size[1] if size else None,
        created_at="2026-11-01T00:00:00Z",
    ).save()


@pytest.fixture
def project(ports: Ports, make_org) -> str:  # type: ignore[no-untyped-def]
    make_org("acme")
    make_org("rival")
    reply = call("POST", "/projects", "acme", {"name": "Streets", "label_config": LABEL_CONFIG})
    pid = str(reply.body["project_id"])
    for task_id, key, size, labels in TASKS:
        # In acme's own folder of the data bucket: exports name only images acme may read.
        _write_task(f"acme#{pid}", ports.settings.data_bucket, task_id, key, size, labels)
    return pid


def test_coco_export_through_the_api_loads_in_pycocotools(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given four tasks (three pre-labeled, one not yet), read two per page from DynamoDB
    monkeypatch.setattr(export_service, "EXPORT_PAGE_SIZE", 2)
    # When acme exports COCO through the API
    reply = call("GET", f"/projects/{project}/export", "acme", query={"format": "coco"})
    # Then every task is an image and every box an annotation, with score and source kept
    assert reply.status == 200, reply.body
    doc = reply.body
    assert [i["file_name"] for i in doc["images"]] == [t[1] for t in TASKS]
    assert [(a["bbox"], a["score"], a["source"]) for a in doc["annotations"]] == [
        ([64, 48, 128, 96], 0.9, "AI_PRE_LABEL"),
        ([1, 2, 29, 97], 0.6, "AI_PRE_LABEL"),
        ([0, 0, 800, 600], 0.75, "AI_PRE_LABEL"),
    ]
    assert [c["name"] for c in doc["categories"]] == ["Vehicle", "Person"]
    # And pycocotools loads it with the boxes on the right images
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(doc))
    coco = COCO(str(path))
    assert [len(coco.getAnnIds(imgIds=[i])) for i in (1, 2, 3, 4)] == [2, 1, 0, 0]


@pytest.mark.parametrize(
    ("fmt", "folder", "ext", "parse"),
    [
        ("yolo", "labels", "txt", lambda b: len(b.decode().splitlines())),
        ("voc", "Annotations", "xml", lambda b: len(ET.fromstring(b).findall("object"))),  # noqa: S314
    ],
)
def test_yolo_and_voc_exports_are_zips_with_one_file_per_image(
    project: str, fmt: str, folder: str, ext: str, parse
) -> None:  # type: ignore[no-untyped-def]
    # Given the pre-labeled project; When acme exports it as YOLO or VOC through the handler
    reply = export_cli.fetch_export("acme", project, fmt)
    # Then the answer is a zip, named for the project and format
    assert reply.status == 200, reply.error_message()
    assert reply.content_type == "application/zip"
    assert reply.filename == f"{project}-{fmt}.zip"
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    # And each image of known size has a file whose boxes match the task's, the other is listed
    counts = {n: parse(archive.read(n)) for n in archive.namelist() if n.startswith(f"{folder}/")}
    assert counts == {
        f"{folder}/acme/street/a.{ext}": 2,
        f"{folder}/acme/street/b.{ext}": 1,
        f"{folder}/acme/street/c.{ext}": 0,
    }
    summary = json.loads(archive.read("prelabel_export.json"))
    assert summary["skipped_task_ids"] == ["t4"]


def test_another_org_cannot_export_the_project(project: str) -> None:
    # Given acme's pre-labeled project; When rival asks for its export in any format
    replies = [export_cli.fetch_export("rival", project, f) for f in export_cli.FORMATS]
    # Then it does not exist for rival, and no label of acme's is in the answer
    assert [r.status for r in replies] == [404, 404, 404]
    assert all(b"Vehicle" not in r.content and b"street/" not in r.content for r in replies)


def test_unknown_format_is_refused(project: str) -> None:
    # When a format the API does not offer is asked for
    reply = call("GET", f"/projects/{project}/export", "acme", query={"format": "csv"})
    # Then the request is refused naming the parameter
    assert reply.status == 422
    assert "format" in reply.message


def test_cli_writes_coco_and_unpacked_yolo(
    project: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the CLI exports COCO and YOLO into a folder
    out = tmp_path / "out"
    coco_rc = export_cli.main(["--project", project, "--org", "acme", "--out", str(out)])
    yolo_rc = export_cli.main(
        ["--project", project, "--org", "acme", "--format", "yolo", "--out", str(out)]
    )
    # Then both succeed and the files are there, the YOLO zip unpacked next to itself
    assert (coco_rc, yolo_rc) == (0, 0)
    coco = json.loads((out / f"{project}-coco.json").read_text())
    assert len(coco["annotations"]) == 3
    assert (out / f"{project}-yolo.zip").is_file()
    labels = out / f"{project}-yolo" / "labels" / "acme" / "street"
    assert (labels / "a.txt").read_text().startswith("0 ")
    assert (out / f"{project}-yolo" / "classes.txt").read_text() == "Vehicle\nPerson\n"
    # When another organization runs the CLI on the same project
    rc = export_cli.main(["--project", project, "--org", "rival", "--out", str(tmp_path / "r")])
    # Then it fails with the API's 404 and writes nothing
    assert rc == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
