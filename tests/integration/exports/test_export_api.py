"""Exports through the API handler on DynamoDB Local and moto S3, with pre-labeled tasks written
directly; each export opened with the library its users load it with."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import supervision as sv
from label_studio_sdk.label_interface.interface import LabelInterface
from PIL import Image
from pycocotools.coco import COCO

from prelabel.container import Container
from prelabel.domain.entities import Box, Label, ProjectRef
from prelabel.services.jobs import export_step
from prelabel_local import export as export_cli
from prelabel_local import harness
from tests.integration.core.api_client import call
from tests.integration.plant import plant_prelabel, plant_task

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
    org_id, project_id = project_key.split("#", 1)
    ref = ProjectRef(org_id, project_id)
    plant_task(ref, task_id, bucket=bucket, image_key=key, dataset_id="ds1")
    if size:
        plant_prelabel(
            ref,
            task_id,
            [
                Label(
                    label_id=f"{task_id}-{i}",
                    entry_id=entry,
                    entry_name={"veh": "Vehicle", "per": "Person"}[entry],
                    box=Box(*box),
                    detector_class="car" if entry == "veh" else "person",
                    score=score,
                    model_name="yolox-s",
                    model_version="0.4.4",
                )
                for i, (entry, box, score) in enumerate(labels)
            ],
            size=size,
            model=("yolox-s", "0.4.4"),
            run_id="run-1",
        )


@pytest.fixture
def project(ports: Container, make_org) -> str:  # type: ignore[no-untyped-def]
    make_org("acme")
    make_org("rival")
    reply = call("POST", "/projects", "acme", {"name": "Streets", "label_config": LABEL_CONFIG})
    pid = str(reply.body["project_id"])
    bucket = ports.settings.data_bucket
    s3 = boto3.client("s3")
    for task_id, key, size, labels in TASKS:
        _write_task(f"acme#{pid}", bucket, task_id, key, size, labels)
        photo = io.BytesIO()
        Image.new("RGB", size or (64, 48), (200, 80, 40)).save(photo, "JPEG")
        s3.put_object(Bucket=bucket, Key=key, Body=photo.getvalue())
    return pid


def test_coco_export_through_the_api_loads_in_pycocotools(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given four tasks (three pre-labeled, one not yet), read two per page from DynamoDB
    monkeypatch.setattr(export_step, "EXPORT_PAGE_SIZE", 2)
    # When acme exports COCO through the API (a job, then the file from its link)
    reply = export_cli.fetch_export("acme", project, "coco")
    # Then every task is an image and every box an annotation, with score and source kept
    assert reply.status == 200, reply.error_message()
    assert reply.content_type == "application/json"
    doc = json.loads(reply.content)
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


def test_export_answers_with_a_job_then_a_presigned_link_to_the_file(
    project: str, ports: Container
) -> None:
    # Given the pre-labeled project
    path = f"/projects/{project}/export"
    # When acme asks for a VOC export
    started = call("GET", path, "acme", query={"format": "voc"})
    # Then the answer is at once: 202 with the running export job
    assert started.status == 202, started.body
    job = started.body
    assert (job["kind"], job["params"], job["status"]) == ("export", {"format": "voc"}, "RUNNING")

    # And once the job has written the file, the job id gives a SigV4 link valid 15 minutes
    def ready() -> Any:
        reply = call("GET", path, "acme", query={"format": "voc", "job_id": job["job_id"]})
        return reply if reply.status == 200 else None

    link = harness.wait_until(ready, what="the export file")
    url = link.body["url"]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=900" in url
    assert link.body["summary"] == {
        "filename": f"{project}-voc.zip",
        "images": 3,
        "annotations": 3,
        "skipped_images": 1,
        "dropped_labels": 0,
    }
    # And the file lives under exports/<org>/<project>/, the link downloads it as a zip
    keys = [
        o["Key"]
        for o in boto3.client("s3").list_objects_v2(
            Bucket=ports.settings.data_bucket, Prefix="exports/"
        )["Contents"]
    ]
    assert keys == [f"exports/acme/{project}/{job['job_id']}/{project}-voc.zip"]
    download = requests.get(url, timeout=30)
    assert zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    # And the job names a format only: asking it for another is refused
    wrong = call("GET", path, "acme", query={"format": "coco", "job_id": job["job_id"]})
    assert wrong.status == 400 and wrong.body["field"] == "job_id"


def _yolo_boxes(data: bytes) -> int:
    return len(data.decode().splitlines())


def _voc_boxes(data: bytes) -> int:
    return len(ET.fromstring(data).findall("object"))  # noqa: S314


@pytest.mark.parametrize(
    ("fmt", "files", "parse"),
    [
        (
            "yolo",
            ("labels/acme/street/a.txt", "labels/acme/street/b.txt", "labels/acme/street/c.txt"),
            _yolo_boxes,
        ),
        ("yolo_flat", ("labels/a.txt", "labels/b.txt", "labels/c.txt"), _yolo_boxes),
        ("voc", ("Annotations/a.xml", "Annotations/b.xml", "Annotations/c.xml"), _voc_boxes),
    ],
)
def test_yolo_and_voc_exports_are_zips_with_one_file_per_image(
    project: str, fmt: str, files: tuple[str, ...], parse
) -> None:  # type: ignore[no-untyped-def]
    # Given the pre-labeled project; When acme exports it as YOLO or VOC through the handler
    reply = export_cli.fetch_export("acme", project, fmt)
    # Then the answer is a zip, named for the project and format
    assert reply.status == 200, reply.error_message()
    assert reply.content_type == "application/zip"
    assert reply.filename == f"{project}-{fmt}.zip"
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    # And each image of known size has a file whose boxes match the task's, the other is listed
    folder = files[0].split("/")[0]
    counts = {n: parse(archive.read(n)) for n in archive.namelist() if n.startswith(folder + "/")}
    assert counts == dict(zip(files, (2, 1, 0), strict=True))
    manifest = json.loads(archive.read("prelabel_export.json"))
    assert manifest["skipped_task_ids"] == ["t4"]
    assert [f["image_key"] for f in manifest["files"]] == [
        "acme/street/a.jpg",
        "acme/street/b.jpg",
        "acme/street/c.jpg",
    ]


def test_label_studio_export_validates_against_its_config(project: str) -> None:
    # Given the pre-labeled project; When acme exports it for Label Studio
    reply = export_cli.fetch_export("acme", project, "labelstudio")
    assert reply.status == 200, reply.error_message()
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    interface = LabelInterface(archive.read("labeling_config.xml").decode())
    tasks = json.loads(archive.read("tasks.json"))
    # Then the config is valid and offers the bbox entries
    interface.validate()
    assert interface.get_control("label").labels == ["Vehicle", "Person"]
    # And every task points at its S3 object; the pre-labeled ones carry the run and boxes
    # that label-studio-sdk finds valid for the config
    assert [t["data"]["image"].rsplit("/", 2)[-2:] for t in tasks] == [
        ["street", k] for k in ("a.jpg", "b.jpg", "c.jpg", "d.jpg")
    ]
    predictions = [p for t in tasks for p in t.get("predictions", [])]
    assert [len(p["result"]) for p in predictions] == [2, 1]
    assert {p["prelabel_run_id"] for p in predictions} == {"run-1"}
    assert [e for p in predictions for e in interface.validate_prediction(p, True)] == []


def test_another_org_cannot_export_the_project(project: str) -> None:
    # Given acme's pre-labeled project; When rival asks for its export in any format
    replies = [export_cli.fetch_export("rival", project, f) for f in export_cli.FORMATS]
    # Then it does not exist for rival, and no label of acme's is in the answer
    assert [r.status for r in replies] == [404] * len(export_cli.FORMATS)
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


def test_cli_with_images_gives_folders_supervision_opens_as_they_are(
    project: str, tmp_path: Path
) -> None:
    # When the CLI exports VOC, flat YOLO and COCO with the images copied from S3
    for fmt in ("voc", "yolo_flat", "coco"):
        args = ["--project", project, "--org", "acme", "--format", fmt, "--out", str(tmp_path)]
        assert export_cli.main([*args, "--with-images"]) == 0
    voc, flat = tmp_path / f"{project}-voc", tmp_path / f"{project}-yolo_flat"
    # Then supervision reads every image of known size with its boxes from each folder
    datasets = {
        "voc": sv.DetectionDataset.from_pascal_voc(
            str(voc / "JPEGImages"), str(voc / "Annotations")
        ),
        "yolo_flat": sv.DetectionDataset.from_yolo(
            str(flat / "images"), str(flat / "labels"), str(flat / "data.yaml")
        ),
        "coco": sv.DetectionDataset.from_coco(
            str(tmp_path / f"{project}-coco-images"), str(tmp_path / f"{project}-coco.json")
        ),
    }
    boxes = {
        fmt: sorted(
            (Path(p).name, len(ds.annotations[p])) for p in ds.image_paths if Path(p).exists()
        )
        for fmt, ds in datasets.items()
    }
    known = [("a.jpg", 2), ("b.jpg", 1), ("c.jpg", 0)]
    assert boxes["voc"] == boxes["yolo_flat"] == known
    # And the COCO images are in place too, the one not read yet included
    assert boxes["coco"] == [*known, ("d.jpg", 0)]
