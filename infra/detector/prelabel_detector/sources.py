"""Where the local server finds a multi-model endpoint's artifacts: the stand-in for SageMaker.

On SageMaker, `TargetModel` names an object under the endpoint's model data prefix; SageMaker
downloads and unpacks it on the instance and tells the container where (`POST /models`).
Locally the server does that part itself, from a folder (`--models-dir`) or from S3 under a
bucket and prefix (`--models-s3 s3://bucket/prefix/`, which reaches the local stack's moto S3
through AWS_ENDPOINT_URL like every other client). Artifacts are `.tar.gz` files holding
descriptor.json and the weights, as SageMaker requires; a folder with descriptor.json is
accepted too, for hand-made local models.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tarfile
import tempfile
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from prelabel_detector.descriptor import DESCRIPTOR_NAME

# The Runtime API's limit on TargetModel, and what a relative object key may hold here.
MAX_TARGET_MODEL = 1024
SAFE_TARGET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/=+]*$")
# Unpacked artifacts can be far larger than their archive; a bomb stops here.
MAX_UNPACKED_BYTES = 2 << 30


class InvalidTargetModelError(ValueError):
    """The TargetModel is not a relative artifact name (a client-side mistake: 400)."""


class ArtifactNotFoundError(LookupError):
    pass


class ArtifactInvalidError(ValueError):
    pass


def checked_target(target_model: str) -> str:
    parts = target_model.split("/")
    if (
        not target_model
        or len(target_model) > MAX_TARGET_MODEL
        or not SAFE_TARGET.match(target_model)
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidTargetModelError(
            f"TargetModel {target_model[:100]!r} is not a relative artifact name"
        )
    return target_model


class ModelSource(ABC):
    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache or Path(tempfile.mkdtemp(prefix="prelabel-models-"))
        self.cache.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    @abstractmethod
    def describe(self, target_model: str) -> str:
        """Where the artifact would be, for messages."""

    @abstractmethod
    def _download(self, target_model: str, destination: Path) -> Path | None:
        """The artifact as a local file (or folder), or None when there is none."""

    def fetch(self, target_model: str) -> Path:
        """A local folder holding descriptor.json and the weights of `target_model`."""
        name = checked_target(target_model)
        folder = self.cache / hashlib.sha256(name.encode()).hexdigest()[:32]
        with self._lock:
            if (folder / DESCRIPTOR_NAME).is_file():
                return folder
            download = folder.with_suffix(".download")
            artifact = self._download(name, download)
            if artifact is None:
                raise ArtifactNotFoundError(self.describe(name))
            if artifact.is_dir():
                return artifact
            try:
                unpack(artifact, folder)
            finally:
                download.unlink(missing_ok=True)
            return folder


class FolderSource(ModelSource):
    def __init__(self, root: Path, cache: Path | None = None) -> None:
        super().__init__(cache)
        self.root = root.resolve()

    def describe(self, target_model: str) -> str:
        return str(self.root / target_model)

    def _download(self, target_model: str, destination: Path) -> Path | None:
        path = (self.root / target_model).resolve()
        if not path.is_relative_to(self.root):  # a symlink pointing out of the folder
            return None
        if path.is_dir():
            return path if (path / DESCRIPTOR_NAME).is_file() else None
        return path if path.is_file() else None


class S3Source(ModelSource):
    def __init__(self, client: Any, bucket: str, prefix: str, cache: Path | None = None) -> None:
        super().__init__(cache)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def key(self, target_model: str) -> str:
        return f"{self.prefix}/{target_model}" if self.prefix else target_model

    def describe(self, target_model: str) -> str:
        return f"s3://{self.bucket}/{self.key(target_model)}"

    def _download(self, target_model: str, destination: Path) -> Path | None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(self.bucket, self.key(target_model), str(destination))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return destination


def unpack(archive: Path, folder: Path) -> None:
    """A .tar.gz into `folder`: regular files and folders only, nothing outside, size capped."""
    staging = folder.with_suffix(".unpack")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            if sum(m.size for m in members) > MAX_UNPACKED_BYTES:
                raise ArtifactInvalidError(f"{archive.name} unpacks beyond the size limit")
            # The "data" filter refuses links, devices and paths leaving the folder.
            tar.extractall(staging, members=members, filter="data")
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ArtifactInvalidError(f"{archive.name} is not a readable .tar.gz: {exc}") from exc
    if not (staging / DESCRIPTOR_NAME).is_file():
        shutil.rmtree(staging, ignore_errors=True)
        raise ArtifactInvalidError(f"{archive.name} holds no {DESCRIPTOR_NAME}")
    staging.rename(folder)
