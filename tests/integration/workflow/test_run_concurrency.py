"""A run at the concurrency Prepare computes from the endpoint (moto's DescribeEndpoint and
ListTags of the local endpoint): exactly that many workers at once, a stop mid-run that is final,
then a second run that uses the limit exactly, nothing charged twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import boto3

from prelabel.adapters.dynamodb.models import BatchReceiptModel
from prelabel.container import Container
from prelabel.domain.entities import ProjectRef
from prelabel.domain.run_concurrency import EndpointCapacity, WorkerPace, run_concurrency
from prelabel.ports.detector import Detections, Detector, DetectorUnavailable
from prelabel_local import harness
from prelabel_local.detector_endpoint import register_endpoint
from prelabel_local.http_events import call_api
from prelabel_local.stack import DETECTOR_ENDPOINT
from tests.integration.workflow.conftest import all_tasks, make_project, wait_for_end

TASKS = 96  # twelve batches of 8
LIMIT = 60
RATE = 30.0  # the endpoint's tag: one instance's images/s
QUIET_S = 5.0


class WaveGate(Detector):
    """The real detector behind a gate that lets calls through in the order they came, as many
    as the test allows; counts the calls at the detector at once (one per worker)."""

    def __init__(self, real: Detector) -> None:
        self._real = real
        self._cond = threading.Condition()
        self.entered = 0
        self.allowed = 0
        self.in_flight = 0
        self.most = 0

    def allow(self, calls: int) -> None:
        with self._cond:
            self.allowed = calls
            self._cond.notify_all()

    def detect(self, images: Sequence[bytes], *, score_floor: float) -> Detections:
        with self._cond:
            n = self.entered
            self.entered += 1
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            let_through = self._cond.wait_for(lambda: n < self.allowed, timeout=180)
        try:
            if not let_through:
                raise DetectorUnavailable("the test never opened the gate")
            return self._real.detect(images, score_floor=score_floor)
        finally:
            with self._cond:
                self.in_flight -= 1


def _run(ref: ProjectRef) -> dict[str, object]:
    body: dict[str, object] = call_api(
        "GET", f"/projects/{ref.project_id}/runs/current", ref.org_id
    ).body
    return body


def _figures(stack: Container, ref: ProjectRef) -> tuple[object, ...]:
    run = _run(ref)
    done = sum(1 for t in all_tasks(ref) if t["prelabel_state"] == "DONE")
    return run["status"], run["labeled"], done, stack.ledger.remaining(ref.org_id)


def test_a_run_at_the_computed_concurrency_stops_for_good_and_uses_the_limit_exactly(
    stack: Container, moto_endpoint: str
) -> None:
    # Given the endpoint with one instance tagged at 30 img/s, workers of batches of 8 taking
    # 1 s of their own (8 / (1 + 8/30) = 6.3 img/s each), and 8 reserved: 5 workers at once
    register_endpoint(
        boto3.client("sagemaker", endpoint_url=moto_endpoint),
        DETECTOR_ENDPOINT,
        instances=1,
        images_per_second=RATE,
    )
    s = stack.settings
    expected = run_concurrency(
        EndpointCapacity(1, RATE), WorkerPace(s.batch_size, s.worker_seconds_per_batch), 8
    ).value
    assert 1 < expected < s.max_concurrency == 8, "the endpoint, not the bound, decides"
    gate = WaveGate(stack.detector)
    stack.override(detector=gate)
    ref = make_project(stack, "acme", waiting=TASKS, limit=LIMIT)
    # When a run starts
    started = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {"confirm": True})
    assert started.status == 201, started.body
    # Then exactly that many workers reach the detector together, and no more start
    harness.wait_until(lambda: gate.entered >= expected, what="a full wave", timeout=180)
    time.sleep(3)
    assert (gate.entered, gate.most) == (expected, expected)
    # When that wave is let through (and commits) and the next wave is held at the detector
    gate.allow(expected)
    wave = expected * s.batch_size
    harness.wait_until(lambda: _run(ref)["labeled"] == wave, what="the first wave committed")
    harness.wait_until(lambda: gate.entered == 2 * expected, what="a second wave held")
    # And the run is stopped
    stopped = call_api("POST", f"/projects/{ref.project_id}/runs/stop", "acme").body
    stop_time = time.monotonic()
    # Then it is STOPPED with the first wave's work, and the held wave, let go, adds nothing
    assert (stopped["status"], stopped["labeled"]) == ("STOPPED", wave)
    at_stop = _figures(stack, ref)
    assert at_stop == ("STOPPED", wave, wave, LIMIT - wave)
    gate.allow(10**9)
    while time.monotonic() - stop_time < QUIET_S:
        assert _figures(stack, ref) == at_stop
        time.sleep(0.5)
    # When a second run starts and goes to its end at the same concurrency
    again = call_api("POST", f"/projects/{ref.project_id}/runs", "acme", {"confirm": True})
    assert again.status == 201, again.body
    final = wait_for_end(ref)
    # Then it pre-labels exactly what the limit has left, and skips the rest
    assert final["status"] == "COMPLETED", final
    assert (final["labeled"], final["skipped_quota"]) == (LIMIT - wave, TASKS - LIMIT)
    assert gate.most == expected
    # And the limit is used exactly: 60 DONE tasks, 60 charged, each counted by one receipt
    done = [t["task_id"] for t in all_tasks(ref) if t["prelabel_state"] == "DONE"]
    assert len(done) == len(set(done)) == LIMIT
    assert stack.ledger.remaining("acme") == 0
    runs = stack.runs.recent(ref, 10)
    assert sorted(r.counters.labeled for r in runs) == sorted([wave, LIMIT - wave])
    receipts = [r for run in runs for r in BatchReceiptModel.query(f"batch#{run.run_id}")]
    assert sum(int(r.labeled) for r in receipts) == LIMIT
