"""A run's concurrency from the detector endpoint it will use (prelabel.domain.run_concurrency)."""

from __future__ import annotations

from dataclasses import dataclass

from prelabel.domain.run_concurrency import (
    EndpointCapacity,
    RunConcurrency,
    WorkerPace,
    run_concurrency,
)
from prelabel.ports.capacity import EndpointCapacityReader, EndpointCapacityUnreadable

TAG_SOURCE = "the endpoint's tag"
SETTING_SOURCE = "DETECTOR_IMAGES_PER_SECOND"


@dataclass(frozen=True, kw_only=True)
class RunSizing:
    endpoints: EndpointCapacityReader
    pace: WorkerPace
    # One instance's images/s where the endpoint carries no tag (deployed by other means).
    images_per_second: float
    reserved: int

    def concurrency(self, endpoint_name: str) -> tuple[RunConcurrency, str | None]:
        """The concurrency, and why the endpoint's own figures were not used (None: they were).

        An endpoint that cannot be described counts as one instance at the setting's rate: the
        run still starts, and its batches meet the endpoint's errors as they would anyway.
        """
        problem = None
        try:
            reading = self.endpoints.read(endpoint_name)
            instances, tagged = reading.instances, reading.images_per_second
        except EndpointCapacityUnreadable as exc:
            instances, tagged, problem = 1, None, str(exc)
        capacity = EndpointCapacity(
            instances,
            tagged or self.images_per_second,
            TAG_SOURCE if tagged else SETTING_SOURCE,
        )
        return run_concurrency(capacity, self.pace, self.reserved), problem
