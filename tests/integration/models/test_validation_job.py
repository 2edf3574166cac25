"""The validation job end to end: a real model posted to moto's S3 through the presigned form,
validated by the job moto's Step Functions runs, packaged at its TargetModel key, and served
from there by the local detector server; hostile files end FAILED with their reasons."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time

import boto3
import pytest

from prelabel.adapters.sagemaker_detector import SageMakerDetector
from prelabel.container import Container, client_factory
from prelabel_detector.server import DetectorServer
from prelabel_local.harness import wait_until
from prelabel_local.model_upload import post_file, upload_model
from tests.integration.models.conftest import api_declaration, org_api
from tests.integration.workflow.conftest import COCO_DIR
from tests.model_files import CUSTOM_KEEP, HOSTILE_FILES, build

pytestmark = pytest.mark.integration
ORG = "org-models"


def _keys(ports: Container) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=ports.settings.models_bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def _photo() -> bytes:
    return (COCO_DIR / "000000000785.jpg").read_bytes() if COCO_DIR.is_dir() else b""


def test_an_uploaded_model_is_validated_packaged_and_served_by_target_model(
    ports: Container, make_org, shared_model: None, detector: DetectorServer
) -> None:  # type: ignore[no-untyped-def]
    # Given an organization and the 3-class custom model (YOLOX-Nano's person, truck, chair
    # kept as worker, forklift, pallet)
    make_org(ORG)
    data = build("custom-classes")
    api = org_api(ORG)
    # When it is declared, posted to the presigned form, submitted, and its job runs
    started = time.perf_counter()
    model, version = upload_model(api, api_declaration("custom-classes", "Forklifts"), data)
    took = time.perf_counter() - started
    wall = version["validation"]["wall_ms"] if version else None
    print(
        f"\nupload + validation job through moto's Step Functions: {took:.2f} s (validator {wall} ms)"
    )
    # Then its version is the file's sha256, READY, with what validation found
    sha = hashlib.sha256(data).hexdigest()
    assert version is not None and version["version"] == sha, model
    assert version["status"] == "READY" and version["reason"] is None
    assert version["size_bytes"] == len(data)
    assert version["validation"]["layout"] and version["validation"]["probe_ms"] > 0
    assert model["latest_ready"] == sha and model["classes"] == list(CUSTOM_KEEP.values())
    # And the artifact lies at the TargetModel key under the endpoint's prefix; the uploaded
    # object is removed once its job ends
    target = f"{ORG}/{model['model_id']}/{sha}.tar.gz"
    assert wait_until(lambda: _keys(ports) == [f"artifacts/{target}"], what="the upload's removal")
    # When the worker's adapter asks the local endpoint with that TargetModel
    runtime = client_factory("sagemaker-runtime", "us-east-1")
    adapter = SageMakerDetector(runtime, "prelabel-detector")
    os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = detector.url
    try:
        started = time.perf_counter()
        first = adapter.detect([_photo()], score_floor=0.3, target_model=target)
        first_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        again = adapter.detect([_photo()], score_floor=0.3, target_model=target)
        again_ms = (time.perf_counter() - started) * 1000
        builtin = adapter.detect([_photo()], score_floor=0.3)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", None)
    print(f"first use (download, unpack, load, 1 image): {first_ms:.0f} ms; then {again_ms:.0f} ms")
    # Then the uploaded model answered, under its name and version, with its own class names;
    # without TargetModel the built-in answers as before
    assert (first.model_name, first.model_version) == ("Forklifts", sha)
    names = {d.class_name for r in first.results for d in r.detections}
    assert names and names <= set(CUSTOM_KEEP.values()), names
    assert again.results == first.results
    assert builtin.model_version != sha and builtin.model_name == "ssd-mobilenet-v2-coco"


@pytest.mark.parametrize(
    ("name", "declared_as", "reason"),
    [
        ("text", "yolox", "not an ONNX model: the file does not parse"),
        (
            "custom-op",
            "yolox",
            "operator domain 'com.example.evil': only the standard ONNX domains",
        ),
        (
            "external-data",
            "yolox",
            "tensor 'stolen' keeps its data in an external file ('../../etc/passwd')",
        ),
        (
            "wrong-class-count",
            "ultralytics-v8",
            "fits 80 classes (YOLOv8 layout), the model declares 3",
        ),
    ],
)
def test_hostile_files_end_failed_with_their_reason_through_the_product(
    ports: Container, make_org, shared_model: None, name: str, declared_as: str, reason: str
) -> None:  # type: ignore[no-untyped-def]
    # Given a hostile or wrong file (a text file named .onnx, a custom-op node, an external
    # tensor pointing at ../../etc/passwd, an 80-class YOLOv8 export declared with 3 classes)
    make_org(ORG)
    if name == "wrong-class-count":
        data = build("ultralytics-v8")
        body = api_declaration(declared_as, classes=["a", "b", "c"])
    else:
        data = HOSTILE_FILES[name]()
        body = api_declaration(declared_as)
    # When it goes through the product: declared, posted, submitted, its job run
    model, version = upload_model(org_api(ORG), body, data)
    # Then its version is FAILED with the validator's reason, and nothing is packaged
    assert version is not None and version["status"] == "FAILED", model
    assert reason in version["reason"], version["reason"]
    assert model["latest_ready"] is None
    assert wait_until(lambda: _keys(ports) == [], what="the upload's removal")
    # And the API still answers (nothing of the file ran in its process)
    assert org_api(ORG).json("GET", "/models")["models"][-1]["model_id"] == model["model_id"]


def test_a_submit_before_the_file_arrived_is_409_and_the_form_names_one_key_of_the_org(
    ports: Container, make_org
) -> None:  # type: ignore[no-untyped-def]
    # Given a declared model whose file was not posted yet
    make_org(ORG)
    api = org_api(ORG)
    created = api.json("POST", "/models", api_declaration("yolox"))
    model_id, upload = created["model"]["model_id"], created["upload"]
    # When the client says it is uploaded
    reply = api.call("POST", f"/models/{model_id}/versions", {"upload_id": upload["upload_id"]})
    # Then 409, naming what to do; once posted, the submit is 202 and VALIDATING
    assert reply.status == 409 and "POST it to the upload form first" in reply.message
    assert post_file(upload["form"], b"not yet a model") == 204
    reply = api.call("POST", f"/models/{model_id}/versions", {"upload_id": upload["upload_id"]})
    assert reply.status == 202 and reply.body["status"] == "VALIDATING"
    # And the form's policy names exactly the org's key, 1 byte to 512 MB, for 15 minutes
    policy = json.loads(base64.b64decode(upload["form"]["fields"]["policy"]))
    key = f"uploads/{ORG}/{model_id}/{upload['upload_id']}.onnx"
    assert {"key": key} in policy["conditions"]
    assert ["content-length-range", 1, 512 * 1024 * 1024] in policy["conditions"]
    assert {"bucket": ports.settings.models_bucket} in policy["conditions"]
    assert not [c for c in policy["conditions"] if isinstance(c, list) and c[0] == "starts-with"]
    assert upload["form"]["expires_in"] == 900 and upload["form"]["key"] == key
