"""The detector endpoint's capacity from SageMaker's control plane: DescribeEndpoint (instances
in service) and ListTags (the per-instance rate the deploy measured and tagged)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from prelabel.detector_wire import CAPACITY_TAG
from prelabel.ports.capacity import (
    EndpointCapacityReader,
    EndpointCapacityUnreadable,
    EndpointReading,
)

# The SageMaker control-plane client is typed Any: its stubs (mypy-boto3-sagemaker, ~1 MB)
# would be a dev dependency for two calls.
SageMakerClient = Any


def tagged_rate(tags: Iterable[Mapping[str, str]]) -> float | None:
    """The capacity tag's value as a positive number; the last one wins (moto appends repeated
    keys where SageMaker overwrites them), and anything else is no figure at all."""
    value = None
    for tag in tags:
        if tag.get("Key") == CAPACITY_TAG:
            value = tag.get("Value")
    try:
        rate = float(value) if value is not None else None
    except ValueError:
        return None
    return rate if rate is not None and math.isfinite(rate) and rate > 0 else None


class SageMakerEndpointCapacity(EndpointCapacityReader):
    def __init__(self, make_client: Callable[[], SageMakerClient]) -> None:
        self._make_client = make_client

    @cached_property
    def _sagemaker(self) -> SageMakerClient:
        return self._make_client()

    def read(self, endpoint_name: str) -> EndpointReading:
        try:
            described = self._sagemaker.describe_endpoint(EndpointName=endpoint_name)
            # One page: an endpoint carries at most 50 tags.
            tags = self._sagemaker.list_tags(ResourceArn=described["EndpointArn"], MaxResults=100)
        except (ClientError, BotoCoreError) as exc:
            raise EndpointCapacityUnreadable(
                f"endpoint {endpoint_name} could not be described: {exc}"
            ) from exc
        variants = described.get("ProductionVariants", [])
        instances = sum(int(v.get("CurrentInstanceCount", 0)) for v in variants)
        return EndpointReading(instances, tagged_rate(tags.get("Tags", [])))
