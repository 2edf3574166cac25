"""The AI-assistance ledger against DynamoDB Local: atomic, never below zero, exact under races.

Why DynamoDB Local and not moto: moto's DynamoDB evaluates a condition and applies the update
in separate Python steps without a lock per item, so two threads can both pass
`remaining >= k` before either writes. A race test against it could pass or fail by luck and
prove nothing about the real service. DynamoDB Local serializes writes to an item like DynamoDB
does, so an exact total under 16 threads is meaningful evidence there.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from prelabel.adapters.dynamodb.models import OrganizationModel
from prelabel.container import Container
from prelabel.domain.errors import InvalidInput

THREADS = 16
ROUNDS = 20
START = 1_000


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


def _race(ports: Container, org: str, round_no: int) -> list[int]:
    """16 threads charge 1-5 units each until refused; returns every successful charge."""
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

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, [round_no * 100 + t for t in range(THREADS)]))
    return taken


def test_sixteen_threads_charge_exactly_the_limit(ports: Container, make_org) -> None:
    # Given an organization; each of the 20 rounds restores remaining to 1,000
    org = make_org("race")
    for round_no in range(ROUNDS):
        _set_remaining(org, START)
        # When 16 threads charge 1-5 units each until refused
        taken = _race(ports, org, round_no)
        # Then the sum charged is exactly 1,000 and remaining is exactly 0
        assert sum(taken) == START, f"round {round_no}: charged {sum(taken)}"
        assert ports.ledger.remaining(org) == 0
