"""The AI-assistance ledger against DynamoDB Local: atomic, never below zero, exact under races
at a run's concurrency (as many threads as Prepare gives a run on one detector instance).

Why DynamoDB Local and not moto: moto's DynamoDB evaluates a condition and applies the update
in separate Python steps without a lock per item, so two threads can both pass
`remaining >= k` before either writes. A race test against it could pass or fail by luck and
prove nothing about the real service. DynamoDB Local serializes writes to an item like DynamoDB
does, so an exact total under that many threads is meaningful evidence there.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from prelabel.adapters.dynamodb.models import OrganizationModel
from prelabel.container import Container
from prelabel.domain.errors import InvalidInput
from prelabel.domain.run_concurrency import EndpointCapacity, WorkerPace, run_concurrency

ROUNDS = 20
START = 1_000


def deployed_concurrency(template: dict[str, Any]) -> int:
    """How many workers charge at once in a run on one detector instance with the template's
    defaults (BatchSize, WorkerSecondsPerBatch, DetectorImagesPerSecond, LabelBatchConcurrency):
    the race below runs that many threads."""
    defaults = {
        name: float(p["Default"])
        for name, p in template["Parameters"].items()
        if name
        in (
            "BatchSize",
            "WorkerSecondsPerBatch",
            "DetectorImagesPerSecond",
            "LabelBatchConcurrency",
        )
    }
    return run_concurrency(
        EndpointCapacity(1, defaults["DetectorImagesPerSecond"]),
        WorkerPace(int(defaults["BatchSize"]), defaults["WorkerSecondsPerBatch"]),
        int(defaults["LabelBatchConcurrency"]),
    ).value


def _set_remaining(org_id: str, value: int) -> None:
    OrganizationModel(org_id).update(actions=[OrganizationModel.remaining.set(value)])


def test_charge_takes_what_is_left_and_never_goes_below_zero(ports: Container, make_org) -> None:
    # Given an organization with 7 units left
    org = make_org("acme")
    _set_remaining(org, 7)
    # When charging 5, then 5 again, then 1
    first = ports.ledger.charge(org, 5)
    second = ports.ledger.charge(org, 5)
    third = ports.ledger.charge(org, 1)
    # Then 5 and 2 are taken, the third gets nothing, and remaining is exactly 0
    assert (first, second, third) == (5, 2, 0)
    assert ports.ledger.remaining(org) == 0
    # And a negative charge is refused, naming the value
    with pytest.raises(InvalidInput, match="-1"):
        ports.ledger.charge(org, -1)


def _race(ports: Container, org: str, round_no: int, threads: int) -> list[int]:
    """`threads` threads charge 1-5 units each until refused; returns every successful charge."""
    taken: list[int] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            got = ports.ledger.charge(org, rng.randint(1, 5))
            if got == 0:
                return
            with lock:
                taken.append(got)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, [round_no * 1000 + t for t in range(threads)]))
    return taken


def test_a_runs_workers_charge_exactly_the_limit(
    ports: Container, make_org, template: dict[str, Any]
) -> None:
    # Given an organization, and as many threads as a run's workers on one instance (at the
    # template's defaults); each of the 20 rounds restores remaining to 1,000
    org = make_org("race")
    threads = deployed_concurrency(template)
    assert threads >= 16
    for round_no in range(ROUNDS):
        _set_remaining(org, START)
        # When every thread charges 1-5 units until refused
        taken = _race(ports, org, round_no, threads)
        # Then the sum charged is exactly 1,000 and remaining is exactly 0
        assert sum(taken) == START, f"round {round_no}: charged {sum(taken)}"
        assert ports.ledger.remaining(org) == 0
