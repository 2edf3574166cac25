"""Where the local server finds TargetModel artifacts: a folder or S3, unpacked safely."""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from prelabel_detector.artifact import build_model_artifact
from prelabel_detector.descriptor import Descriptor
from prelabel_detector.sources import (
    ArtifactInvalidError,
    ArtifactNotFoundError,
    FolderSource,
    InvalidTargetModelError,
    S3Source,
    checked_target,
)

DECLARED = {
    "family": "ultralytics",
    "input_size": [640, 640],
    "classes": ["forklift", "pallet", "worker"],
    "normalisation": {"scale": 0.00392156862745098, "channels": "RGB"},
}
TARGET = "org-1/model-7/5f1c.tar.gz"


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    onnx_file = tmp_path / "upload.onnx"
    onnx_file.write_bytes(b"onnx bytes")
    return build_model_artifact(onnx_file, DECLARED, "forklifts", "5f1c", tmp_path / "a.tar.gz")


def tar_with(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return buffer.getvalue()


@pytest.mark.parametrize("target", [TARGET, "builtin/yolox-nano.tar.gz", "a=b/c+d.tar.gz"])
def test_relative_artifact_names_are_accepted(target: str) -> None:
    # Given a TargetModel naming an object under the model prefix
    # When it is checked
    # Then it is kept as is
    assert checked_target(target) == target


@pytest.mark.parametrize(
    "target",
    [
        "",
        "../other-org/m.tar.gz",
        "org/../../etc/passwd",
        "/etc/passwd",
        "org//m",
        "a\\b",
        "a" * 1025,
    ],
)
def test_names_that_leave_the_prefix_are_refused(target: str) -> None:
    # Given a TargetModel that is empty, absolute, climbs out, or is oversized
    # When it is checked
    # Then it is refused before any file is touched
    with pytest.raises(InvalidTargetModelError):
        checked_target(target)


def test_folder_source_unpacks_an_artifact_once(tmp_path: Path, artifact: Path) -> None:
    # Given a models folder holding an uploaded model's artifact at its TargetModel key
    root = tmp_path / "models"
    (root / TARGET).parent.mkdir(parents=True)
    artifact.rename(root / TARGET)
    source = FolderSource(root, cache=tmp_path / "cache")
    # When the TargetModel is fetched twice
    folder = source.fetch(TARGET)
    again = source.fetch(TARGET)
    # Then the same unpacked folder holds a descriptor the server loads, beside the weights
    assert again == folder
    descriptor = Descriptor.load(folder / "descriptor.json")
    assert (descriptor.name, descriptor.version) == ("forklifts", "5f1c")
    assert descriptor.classes == ("forklift", "pallet", "worker")
    assert descriptor.weights["model"].read_bytes() == b"onnx bytes"
    # and the artifact in the models folder is left where it was
    assert (root / TARGET).is_file()


def test_folder_source_does_not_follow_links_out_of_its_folder(tmp_path: Path) -> None:
    # Given a models folder with a link to a file outside it
    root = tmp_path / "models"
    root.mkdir()
    (tmp_path / "secret.tar.gz").write_bytes(b"not yours")
    (root / "link.tar.gz").symlink_to(tmp_path / "secret.tar.gz")
    source = FolderSource(root, cache=tmp_path / "cache")
    # When the link's name is fetched, or a name with no file
    # Then neither is found
    for target in ("link.tar.gz", "absent.tar.gz"):
        with pytest.raises(ArtifactNotFoundError):
            source.fetch(target)


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (tar_with({"../escape.json": b"{}", "descriptor.json": b"{}"}), "not a readable"),
        (
            tar_with({"descriptor.json": b"{}"}, links={"model.onnx": "/etc/passwd"}),
            "not a readable",
        ),
        (tar_with({"model.onnx": b"x"}), "holds no descriptor.json"),
        (b"plain bytes, no archive", "not a readable"),
    ],
)
def test_hostile_archives_are_refused(tmp_path: Path, archive: bytes, message: str) -> None:
    # Given an artifact that climbs out, links outside, lacks its descriptor, or is no archive
    root = tmp_path / "models"
    root.mkdir()
    (root / "bad.tar.gz").write_bytes(archive)
    source = FolderSource(root, cache=tmp_path / "cache")
    # When it is fetched
    # Then it is refused and nothing lands outside the cache
    with pytest.raises(ArtifactInvalidError, match=message):
        source.fetch("bad.tar.gz")
    assert not (tmp_path / "escape.json").exists()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        client.create_bucket(Bucket="models")
        yield client


def test_s3_source_downloads_under_its_prefix(s3: object, tmp_path: Path, artifact: Path) -> None:
    # Given the artifact uploaded under the endpoint's model prefix in S3
    s3.upload_file(str(artifact), "models", f"endpoint/{TARGET}")  # type: ignore[attr-defined]
    source = S3Source(s3, "models", "endpoint/", cache=tmp_path / "cache")
    # When its TargetModel is fetched
    folder = source.fetch(TARGET)
    # Then it is unpacked locally, and a name with no object is not found
    assert json.loads((folder / "descriptor.json").read_text())["name"] == "forklifts"
    with pytest.raises(
        ArtifactNotFoundError, match=re.escape("s3://models/endpoint/org-1/absent.tar.gz")
    ):
        source.fetch("org-1/absent.tar.gz")
