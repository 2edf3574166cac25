"""A run's concurrency from the endpoint's capacity: the formula, where its inputs come from, and
what Prepare hands the Distributed Map."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from prelabel.adapters.sagemaker_capacity import tagged_rate
from prelabel.container import use_container
from prelabel.domain.errors import InvalidInput
from prelabel.domain.run_concurrency import (
    EndpointCapacity,
    WorkerPace,
    run_concurrency,
)
from prelabel.entrypoints.prepare import handler
from prelabel.ports.capacity import EndpointReading
from tests.unit.fakes.world import World


def test_enough_workers_to_keep_every_instance_busy() -> None:
    # Given one GPU instance at 1,000 img/s, and workers that take 1.5 s of their own per batch
    # of 48 (the endpoint adds 48 ms for it)
    endpoint = EndpointCapacity(1, 1000.0)
    pace = WorkerPace(48, 1.5)
    # When the run's concurrency is computed with 100 reserved
    sized = run_concurrency(endpoint, pace, reserved=100)
    # Then one worker pushes 48 / 1.548 = 31.0 img/s, so 33 of them keep 1,000 img/s busy
    assert sized.worker_images_per_second == pytest.approx(31.008, abs=1e-3)
    assert (sized.value, sized.wanted) == (33, 33)
    assert sized.describe() == (
        "33 workers: 1 instance(s) x 1000 img/s (given) / 31.0 img/s per worker = 33"
    )


def test_instances_multiply_the_workers_until_the_reserved_concurrency_bounds_them() -> None:
    # Given the same workers, and an endpoint scaled out to 2, then to 4 instances
    pace = WorkerPace(48, 1.5)
    two = run_concurrency(EndpointCapacity(2, 1000.0), pace, reserved=100)
    four = run_concurrency(EndpointCapacity(4, 1000.0), pace, reserved=100)
    # Then twice the instances want twice the workers (rounded up), and 4 are bounded at 100
    assert two.value == 65  # 2,000 / 31.008 = 64.5
    assert (four.wanted, four.value) == (129, 100)
    assert four.describe().endswith("= 129, bounded by the 100 reserved")


def test_an_exact_multiple_is_not_rounded_up_and_no_instance_still_gets_one_worker() -> None:
    # Given workers of exactly 20 img/s (10 images in 0.4 s + 0.1 s at the endpoint)
    pace = WorkerPace(10, 0.4)
    # When the endpoint takes exactly 200 img/s, then has no instance in service
    exact = run_concurrency(EndpointCapacity(2, 100.0), pace, reserved=50)
    empty = run_concurrency(EndpointCapacity(0, 100.0), pace, reserved=50)
    # Then 10 workers, not 11; and one, so the run goes on and meets the endpoint's errors
    assert exact.value == 10
    assert empty.value == 1


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: EndpointCapacity(-1, 10.0), "instances: -1"),
        (lambda: EndpointCapacity(1, 0.0), "images_per_second: 0.0"),
        (lambda: EndpointCapacity(1, float("nan")), "images_per_second: nan"),
        (lambda: WorkerPace(0, 1.0), "batch_size: 0"),
        (lambda: WorkerPace(8, -0.5), "seconds_per_batch: -0.5"),
        (lambda: run_concurrency(EndpointCapacity(1, 9.0), WorkerPace(8, 1.0), 0), "reserved: 0"),
    ],
)
def test_impossible_inputs_are_refused_naming_the_field_and_value(make: Any, named: str) -> None:
    # Given an input no endpoint or worker can have
    # When the figures are built
    # Then it is refused, naming what and which value
    with pytest.raises(InvalidInput, match=named):
        make()


@pytest.mark.parametrize(
    ("tags", "rate"),
    [
        ([{"Key": "prelabel:images-per-second", "Value": "1450.5"}], 1450.5),
        (
            [
                {"Key": "prelabel:images-per-second", "Value": "800"},
                {"Key": "team", "Value": "vision"},
                {"Key": "prelabel:images-per-second", "Value": "900"},
            ],
            900.0,
        ),
        ([{"Key": "team", "Value": "vision"}], None),
        ([{"Key": "prelabel:images-per-second", "Value": "fast"}], None),
        ([{"Key": "prelabel:images-per-second", "Value": "-3"}], None),
        ([{"Key": "prelabel:images-per-second", "Value": "inf"}], None),
    ],
)
def test_the_endpoints_tag_gives_a_rate_only_when_it_is_a_positive_number(
    tags: list[dict[str, str]], rate: float | None
) -> None:
    # Given an endpoint's tags as ListTags answers them
    # When the capacity tag is read
    # Then a positive figure is the rate (the last one where moto repeats a key), else none
    assert tagged_rate(tags) == rate


@pytest.fixture
def world() -> Iterator[World]:
    w = World(batch_size=8)
    w.services.settings = w.services.settings.model_copy(
        update={
            "organizations_table": "o",
            "projects_table": "p",
            "tasks_table": "t",
            "runs_table": "r",
            "worker_seconds_per_batch": 0.6,
            "detector_images_per_second": 40.0,
            "max_concurrency": 12,
        }
    )
    use_container(w.services)
    try:
        yield w
    finally:
        use_container(None)


def _prepare(world: World, run_id: str) -> dict[str, Any]:
    ref = world.project(waiting=20)
    world.run_service.start(ref, confirm=True, run_id=run_id, execution_arn=f"arn:{run_id}")
    event = {
        "input": {"projectId": ref.project_id, "orgId": ref.org_id, "runId": run_id},
        "executionName": run_id,
        "executionArn": f"arn:{run_id}",
    }
    context = SimpleNamespace(
        function_name="PrepareFunction",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:PrepareFunction",
        aws_request_id=f"req-{run_id}",
    )
    answer: dict[str, Any] = handler(event, context)
    return answer


def test_prepare_sizes_the_map_from_the_endpoints_instances_and_tagged_rate(
    world: World,
) -> None:
    # Given the run's endpoint with 3 instances tagged at 50 img/s each, and workers taking
    # 0.6 s of their own per batch of 8 (8 / (0.6 + 8/50) = 10.5 img/s each)
    world.endpoints.endpoints["prelabel-detector"] = EndpointReading(3, 50.0)
    # When Prepare runs
    answer = _prepare(world, "run_a")
    # Then the Map runs ceil(150 / 10.53) = 15 at once, bounded by the 12 reserved
    assert world.endpoints.asked == ["prelabel-detector"]
    assert answer["maxConcurrency"] == 12


def test_prepare_uses_the_setting_where_the_endpoint_has_no_tag_or_cannot_be_read(
    world: World,
) -> None:
    # Given an endpoint of 2 instances without a rate tag: the setting's 40 img/s applies
    world.endpoints.endpoints["prelabel-detector"] = EndpointReading(2, None)
    # When Prepare runs: 8 / (0.6 + 8/40) = 10 img/s per worker
    untagged = _prepare(world, "run_b")
    # Then 80 / 10 = 8 workers
    assert untagged["maxConcurrency"] == 8
    # When the endpoint cannot be described at all (deleted, or access denied)
    del world.endpoints.endpoints["prelabel-detector"]
    unreadable = _prepare(world, "run_c")
    # Then one instance at the setting's rate is assumed: 40 / 10 = 4, and the run goes on
    assert unreadable["maxConcurrency"] == 4
    assert unreadable["batches"] == 3
