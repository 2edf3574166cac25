"""SageMaker's multi-model container contract over the model store, and the local TargetModel.

Routes (https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html):
`POST /models` {model_name, url} loads (409 if loaded, 507 if it cannot fit), `GET /models`
lists (paginated), `GET /models/{name}`, `DELETE /models/{name}` unloads,
`POST /models/{name}/invoke` runs a request. Locally, the Runtime API route resolves the
`X-Amzn-SageMaker-Target-Model` header through a ModelSource, as SageMaker does from S3.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from prelabel.detector_wire import Options
from prelabel_detector.descriptor import DESCRIPTOR_NAME, Descriptor
from prelabel_detector.handler import LoadedModel, load_model
from prelabel_detector.sources import (
    ArtifactInvalidError,
    ArtifactNotFoundError,
    ModelSource,
    checked_target,
)
from prelabel_detector.store import ModelLoadError, ModelStore, StoreError, UnknownModelError

PAGE_SIZE = 100
MEMORY_ENV = "PRELABEL_DETECTOR_MEMORY_MB"
# Where SageMaker unpacks a multi-model endpoint's artifacts on the instance.
SAGEMAKER_MODELS_ROOT = Path("/opt/ml/models")
Answer = tuple[int, dict[str, Any]]


class TargetModelError(Exception):
    """What the Runtime API answers as ValidationError (HTTP 400) for a TargetModel."""


def default_budget() -> int:
    """PRELABEL_DETECTOR_MEMORY_MB, else 60% of the machine's memory."""
    configured = os.environ.get(MEMORY_ENV)
    if configured:
        return int(configured) << 20
    return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * 0.6)


def load_folder(folder: Path, threads: int | None = None) -> LoadedModel:
    """A model folder (descriptor.json + weights), warmed up with one blank image so the
    runtime's buffers are allocated (and counted) at load, not on the first request."""
    model = load_model(Descriptor.load(folder / DESCRIPTOR_NAME), threads)
    width, height = model.descriptor.input_size
    model.backend.detect([np.zeros((height, width, 3), np.uint8)], Options())
    return model


@dataclass
class ModelHost:
    store: ModelStore[LoadedModel]
    # Local stand-in for the endpoint's S3 model prefix; None on SageMaker.
    source: ModelSource | None = None
    # POST /models only loads from under here (SageMaker's folder); None: anywhere.
    url_root: Path | None = None

    def load(self, body: bytes) -> Answer:
        try:
            doc = json.loads(body)
            name, url = str(doc["model_name"]), Path(str(doc["url"]))
        except (ValueError, KeyError, TypeError):
            return HTTPStatus.BAD_REQUEST, {"message": 'expected {"model_name": ..., "url": ...}'}
        if self.url_root is not None and not url.resolve().is_relative_to(self.url_root):
            return HTTPStatus.BAD_REQUEST, {"message": f"url must lie under {self.url_root}"}
        try:
            self.store.add(name, lambda: url, str(url))
        except StoreError as exc:
            return exc.status, {"message": str(exc)}
        return HTTPStatus.OK, {"message": f"model {name} loaded"}

    def listing(self, query: str) -> Answer:
        states = sorted(self.store.states(), key=lambda s: s.name)
        token = parse_qs(query).get("next_page_token", ["0"])[0]
        start = int(token) if token.isdigit() else 0
        page = states[start : start + PAGE_SIZE]
        doc: dict[str, Any] = {"models": [{"modelName": s.name, "modelUrl": s.url} for s in page]}
        if start + PAGE_SIZE < len(states):
            doc["nextPageToken"] = str(start + PAGE_SIZE)
        return HTTPStatus.OK, doc

    def describe(self, name: str) -> Answer:
        for state in self.store.states():
            if state.name == name:
                return HTTPStatus.OK, {
                    "modelName": state.name,
                    "modelUrl": state.url,
                    "resident": state.resident,
                    "memoryBytes": state.cost,
                    "loadMs": round(state.load_ms, 1),
                }
        return HTTPStatus.NOT_FOUND, {"message": f"model {name} is not loaded"}

    def unload(self, name: str) -> Answer:
        try:
            self.store.remove(name)
        except StoreError as exc:
            return exc.status, {"message": str(exc)}
        return HTTPStatus.OK, {"message": f"model {name} unloaded"}

    def target(self, target_model: str) -> LoadedModel:
        """The model a Runtime API call names: fetched from the source and loaded on first use."""
        if self.source is None:
            raise TargetModelError("this endpoint has no model source for TargetModel")
        try:
            name = checked_target(target_model)
        except ValueError as exc:
            raise TargetModelError(str(exc)) from exc
        source = self.source
        self.store.register(name, lambda: _fetched(source, name), name)
        try:
            return self.store.get(name)
        except UnknownModelError as exc:
            raise TargetModelError(
                f"Failed to download model data for TargetModel {name} ({exc}). Please ensure "
                "that there is an object located at the URL."
            ) from exc


def _fetched(source: ModelSource, name: str) -> Path:
    try:
        return source.fetch(name)
    except ArtifactNotFoundError as exc:
        raise UnknownModelError(f"no artifact at {exc}") from exc
    except ArtifactInvalidError as exc:
        raise ModelLoadError(str(exc)) from exc
