"""The port that reads what the detector endpoint can take, to size a run's concurrency."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EndpointReading:
    """The endpoint as its control plane describes it now."""

    instances: int  # in service now, every variant together
    # One instance's measured images/s from the endpoint's tag; None when it has none.
    images_per_second: float | None


class EndpointCapacityUnreadable(Exception):
    """The endpoint could not be described (missing, denied, throttled)."""


class EndpointCapacityReader(ABC):
    @abstractmethod
    def read(self, endpoint_name: str) -> EndpointReading:
        """EndpointCapacityUnreadable when the endpoint cannot be described."""
