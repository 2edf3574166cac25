"""How many batches of a run are labeled at once: enough workers to keep the detector endpoint
busy, and no more than the Lambda concurrency reserved for them.

    endpoint images/s   E = instances x images/s of one instance
    one worker's time   t = its own time per batch (fetch, prepare, commit) + n / images/s of one
                            instance (the endpoint's time for its batch, with nothing queued)
    one worker pushes   W = n / t images/s                      (n = images per batch)
    concurrency         C = min(ceil(E / W), reserved), at least 1

Fewer than ceil(E / W) workers leave the GPU idle between batches; more only queue at the
endpoint (longer calls, the same images/s) and hold Lambda concurrency while they wait.
docs/scale.md ("Runs that use the GPU they have") gives the figures behind each input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from prelabel.domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class EndpointCapacity:
    """What the detector endpoint takes: its instances now, and one instance's measured rate."""

    instances: int
    images_per_second: float  # one instance, end to end, measured where the deploy ran
    source: str = ""  # where the rate came from (the endpoint's tag, or the setting)

    def __post_init__(self) -> None:
        if self.instances < 0:
            raise InvalidInput(f"instances: {self.instances} is below 0", field="instances")
        if not math.isfinite(self.images_per_second) or self.images_per_second <= 0:
            raise InvalidInput(
                f"images_per_second: {self.images_per_second!r} is not a positive number",
                field="images_per_second",
            )

    @property
    def total(self) -> float:
        return self.instances * self.images_per_second


@dataclass(frozen=True, slots=True)
class WorkerPace:
    """One LabelBatch worker: images per batch, and its own seconds per batch without the
    endpoint call (benchmarks/workflow_cost.py prints it for each batch size and memory)."""

    batch_size: int
    seconds_per_batch: float

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise InvalidInput(f"batch_size: {self.batch_size} is below 1", field="batch_size")
        if not math.isfinite(self.seconds_per_batch) or self.seconds_per_batch < 0:
            raise InvalidInput(
                f"seconds_per_batch: {self.seconds_per_batch!r} is not a number >= 0",
                field="seconds_per_batch",
            )

    def images_per_second(self, endpoint: EndpointCapacity) -> float:
        """What one worker pushes: its batch over its own time plus the endpoint's for it."""
        seconds = self.seconds_per_batch + self.batch_size / endpoint.images_per_second
        return self.batch_size / seconds


@dataclass(frozen=True, slots=True)
class RunConcurrency:
    value: int  # the Distributed Map's MaxConcurrency
    wanted: int  # ceil(E / W): what the endpoint could take
    reserved: int  # the bound: Lambda concurrency reserved for the workers
    endpoint: EndpointCapacity
    worker_images_per_second: float

    def describe(self) -> str:
        e = self.endpoint
        bound = f", bounded by the {self.reserved} reserved" if self.wanted > self.value else ""
        return (
            f"{self.value} workers: {e.instances} instance(s) x {e.images_per_second:g} img/s "
            f"({e.source or 'given'}) / {self.worker_images_per_second:.1f} img/s per worker "
            f"= {self.wanted}{bound}"
        )


def run_concurrency(endpoint: EndpointCapacity, pace: WorkerPace, reserved: int) -> RunConcurrency:
    """See the module's formula. An endpoint with no instance still gets one worker, so the run
    goes on and its batches meet the endpoint's errors as they would at any concurrency."""
    if reserved < 1:
        raise InvalidInput(f"reserved: {reserved} is below 1", field="reserved")
    worker = pace.images_per_second(endpoint)
    # The tolerance keeps an exact multiple (E / W = 4.0000000001 after rounding) at 4.
    wanted = max(1, math.ceil(endpoint.total / worker - 1e-9))
    return RunConcurrency(min(wanted, reserved), wanted, reserved, endpoint, worker)
