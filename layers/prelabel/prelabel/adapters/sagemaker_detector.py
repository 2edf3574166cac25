"""The detector behind a SageMaker real-time endpoint (or the local endpoint with the same API)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import ROUND_FLOOR, Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.detector_wire import (
    MAX_BATCH,
    MAX_BODY_BYTES,
    DetectorResponse,
    ImageResult,
    ResponseFormatError,
    decode_response,
    encode_batch,
)
from prelabel.ports.detector import Detections, Detector, DetectorUnavailable

if TYPE_CHECKING:
    from mypy_boto3_sagemaker_runtime import SageMakerRuntimeClient

# Room for the framing header and per-image lengths under SageMaker's 6 MB payload limit.
BODY_BUDGET = MAX_BODY_BYTES - 64 * 1024


def wire_floor(score_floor: float) -> float:
    """The floor rounded down to the 6 decimals the wire format writes, so what the endpoint
    gets never exceeds what was asked (0.1234567 would otherwise travel as 0.123457)."""
    return float(Decimal(repr(score_floor)).quantize(Decimal("0.000001"), ROUND_FLOOR))


def chunks(images: Sequence[bytes]) -> list[list[int]]:
    """Indexes of the images grouped into requests under the batch and payload limits."""
    groups: list[list[int]] = [[]]
    size = 0
    for i, img in enumerate(images):
        if groups[-1] and (len(groups[-1]) >= MAX_BATCH or size + len(img) > BODY_BUDGET):
            groups.append([])
            size = 0
        groups[-1].append(i)
        size += len(img)
    return [g for g in groups if g]


class SageMakerDetector(Detector):
    """`endpoint_name` serves the built-in detector; `models_endpoint` (a multi-model endpoint,
    by default the same one) serves the organizations' models, each named by TargetModel."""

    def __init__(
        self,
        make_client: Callable[[], SageMakerRuntimeClient],
        endpoint_name: str,
        *,
        models_endpoint: str | None = None,
        attempts: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self._make_client = make_client
        self._endpoint = endpoint_name
        self._models_endpoint = models_endpoint or endpoint_name
        self._attempts = attempts
        self._backoff_s = backoff_s

    @cached_property
    def _runtime(self) -> SageMakerRuntimeClient:
        return self._make_client()

    def detect(
        self, images: Sequence[bytes], *, score_floor: float, target_model: str | None = None
    ) -> Detections:
        results: list[ImageResult | None] = [None] * len(images)
        model = ("", "")
        for group in chunks(images):
            batch = [images[i] for i in group]
            response = self._invoke(batch, wire_floor(score_floor), target_model)
            model = (response.model_name, response.model_version)
            if len(response.results) != len(group):
                raise DetectorUnavailable(
                    f"endpoint answered {len(response.results)} results for {len(group)} images"
                )
            for i, result in zip(group, response.results, strict=True):
                results[i] = result
        return Detections(model[0], model[1], [r for r in results if r is not None])

    def _invoke(
        self, batch: list[bytes], score_floor: float, target_model: str | None
    ) -> DetectorResponse:
        body, content_type = encode_batch(batch, score_floor=score_floor)
        endpoint = self._endpoint if target_model is None else self._models_endpoint
        # TargetModel only for an organization's model: the built-in answers without one.
        named = {} if target_model is None else {"TargetModel": target_model}
        last: Exception | None = None
        for attempt in range(self._attempts):
            try:
                reply = self._runtime.invoke_endpoint(
                    EndpointName=endpoint,
                    Body=body,
                    ContentType=content_type,
                    Accept="application/json",
                    **named,
                )
                return decode_response(reply["Body"].read())
            except (ClientError, BotoCoreError, ResponseFormatError) as exc:
                last = exc
                time.sleep(self._backoff_s * (2**attempt))
        what = endpoint if target_model is None else f"{endpoint} (TargetModel {target_model})"
        raise DetectorUnavailable(f"detector endpoint {what} failed: {last}") from last
