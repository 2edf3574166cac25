"""The Distributed Map's Lambda over in-memory ports: what each invocation reports.

Locally (and in moto's Step Functions) the Map runs its items on threads of one process, so
the handler must not share per-invocation state between them, as Lambda instances never do.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from prelabel.container import use_container
from prelabel.entrypoints.label_batch import handler
from tests.unit.fakes.world import World

BATCHES = 16


@pytest.fixture
def world() -> Iterator[World]:
    w = World(batch_size=4)
    # The fakes stand in for the tables; the function still checks that it was given names.
    w.services.settings = w.services.settings.model_copy(
        update={
            "organizations_table": "o",
            "projects_table": "p",
            "tasks_table": "t",
            "runs_table": "r",
        }
    )
    use_container(w.services)
    try:
        yield w
    finally:
        use_container(None)


def _json_documents(text: str) -> list[dict[str, Any]]:
    # print() writes a document and its newline separately, so threads may swap newlines.
    decoder, found, at = json.JSONDecoder(), [], text.find("{")
    while at >= 0:
        document, end = decoder.raw_decode(text, at)
        found.append(document)
        at = text.find("{", end)
    return found


def _context(n: int) -> SimpleNamespace:
    return SimpleNamespace(
        function_name="LabelBatchFunction",
        memory_limit_in_mb=1024,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:LabelBatchFunction",
        aws_request_id=f"req-{n}",
    )


def test_concurrent_batches_each_publish_their_own_metrics(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a started run of 64 WAITING tasks in 16 batches of 4
    ref = world.project(waiting=BATCHES * 4, limit=1000)
    run = world.run_service.start(ref, confirm=True).run
    assert run is not None
    world.prepare(ref, run.run_id)
    events = [
        {"bucket": "bucket", "key": f"runs/{run.run_id}/batches/{n}.json"} for n in range(BATCHES)
    ]
    # When the Map hands them to the function on 4 threads at once, switching threads often
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda n: handler(events[n], _context(n)), range(BATCHES)))
    finally:
        sys.setswitchinterval(previous)
    # Then every batch committed its 4 images
    assert [r["labeled"] for r in results] == [4] * BATCHES
    # And each invocation published one metrics document with its own batch's figures
    documents = [d for d in _json_documents(capsys.readouterr().out) if "_aws" in d]
    assert len(documents) == BATCHES
    assert [d["BatchSize"] for d in documents] == [[4.0]] * BATCHES
    assert [d["ImagesLabeled"] for d in documents] == [[4.0]] * BATCHES
    assert world.runs.get(ref, run.run_id).counters.labeled == BATCHES * 4
