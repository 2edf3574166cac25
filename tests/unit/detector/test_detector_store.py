"""The model store: load on first use, one load for concurrent requests, LRU under a budget."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prelabel_detector.store import (
    InsufficientMemoryError,
    ModelExistsError,
    ModelLoadError,
    ModelStore,
    UnknownModelError,
)

MB = 1 << 20


class Loads:
    """A loader that records what it loaded; each model object is a fresh list."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.paths: list[Path] = []
        self.gate = gate
        self.started = threading.Event()

    def __call__(self, path: Path) -> list[str]:
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        self.paths.append(path)
        return [path.name]


def store(loads: Loads, budget_mb: int, cost_mb: int = 100) -> ModelStore[list[str]]:
    return ModelStore(loads, budget_mb * MB, estimate=lambda _: cost_mb * MB, measure=lambda: 0)


def at(name: str) -> Callable[[], Path]:
    return lambda: Path("/models") / name


def test_a_registered_model_loads_on_first_use_only() -> None:
    # Given a store that knows model a but has not loaded it
    loads = Loads()
    models = store(loads, budget_mb=1000)
    models.register("a", at("a"))
    assert [s.resident for s in models.states()] == [False]
    # When it is asked for twice
    first, second = models.get("a"), models.get("a")
    # Then it was loaded once, and the same loaded model answered both times
    assert loads.paths == [Path("/models/a")]
    assert first is second
    assert [s.resident for s in models.states()] == [True]


def test_concurrent_requests_for_a_loading_model_wait_for_that_one_load() -> None:
    # Given a model whose load takes until we let it finish
    gate = threading.Event()
    loads = Loads(gate)
    models = store(loads, budget_mb=1000)
    models.register("a", at("a"))
    # When 8 requests ask for it at once while it loads
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(models.get, "a") for _ in range(8)]
        assert loads.started.wait(5)
        while models.figures.waits < 7:
            threading.Event().wait(0.01)
        gate.set()
        results = [f.result(timeout=10) for f in futures]
    # Then it was loaded once, 7 requests waited for that load, and all got the same model
    assert len(loads.paths) == 1
    assert models.figures.waits == 7
    assert all(r is results[0] for r in results)


def test_least_recently_used_models_are_evicted_under_the_budget() -> None:
    # Given a 250 MB budget and models of 100 MB each
    loads = Loads()
    models = store(loads, budget_mb=250)
    for name in ("a", "b", "c"):
        models.register(name, at(name))
    # When a, b and c are used in turn (c does not fit beside a and b)
    models.get("a")
    models.get("b")
    models.get("c")
    resident = {s.name for s in models.states() if s.resident}
    # Then a, the least recently used, was dropped, and the others stay loaded
    assert resident == {"b", "c"}
    # When b is used, then a again
    models.get("b")
    models.get("a")
    # Then c, now the least recently used, made room; a was loaded a second time
    assert {s.name for s in models.states() if s.resident} == {"a", "b"}
    assert [p.name for p in loads.paths] == ["a", "b", "c", "a"]
    assert models.figures.evictions == 2
    assert models.used() == 200 * MB
    # and every model is still registered (SageMaker's view does not go stale)
    assert {s.name for s in models.states()} == {"a", "b", "c"}


def test_measured_growth_counts_when_it_exceeds_the_estimate() -> None:
    # Given a load that makes the process grow by 300 MB against an estimate of 100 MB
    readings = iter([1000 * MB, 1300 * MB])
    models: ModelStore[list[str]] = ModelStore(
        Loads(), 1000 * MB, estimate=lambda _: 100 * MB, measure=lambda: next(readings)
    )
    # When it is loaded
    models.add("a", at("a"))
    # Then it costs what it measurably took
    assert [s.cost for s in models.states()] == [300 * MB]


def test_a_model_larger_than_the_budget_is_refused_with_507() -> None:
    # Given a 50 MB budget and a model estimated at 100 MB
    models = store(Loads(), budget_mb=50)
    # When SageMaker asks to load it
    with pytest.raises(InsufficientMemoryError, match="about 100 MB; the budget is 50 MB") as err:
        models.add("a", at("a"))
    # Then the answer is 507 (SageMaker then unloads others) and the model is not kept
    assert err.value.status == 507
    assert models.states() == []


def test_load_unload_errors_follow_the_multi_model_contract() -> None:
    # Given a store holding model a
    models = store(Loads(), budget_mb=1000)
    models.add("a", at("a"))
    # When a is loaded again, an unknown model is asked for or removed, and a is removed
    # Then: 409, 404, 404, and a is gone
    with pytest.raises(ModelExistsError) as exists:
        models.add("a", at("a"))
    with pytest.raises(UnknownModelError) as unknown:
        models.get("b")
    with pytest.raises(UnknownModelError):
        models.remove("b")
    models.remove("a")
    assert (exists.value.status, unknown.value.status) == (409, 404)
    assert models.states() == []


def test_a_failed_load_is_forgotten_and_tried_again_on_the_next_request() -> None:
    # Given a model whose files are not there the first time
    attempts: list[int] = []

    def flaky() -> Path:
        attempts.append(1)
        if len(attempts) == 1:
            raise FileNotFoundError("descriptor.json")
        return Path("/models/a")

    models = store(Loads(), budget_mb=1000)
    models.register("a", flaky)
    # When it is asked for, fails, is registered again and asked for again
    with pytest.raises(ModelLoadError, match="cannot be fetched") as failed:
        models.get("a")
    assert models.states() == []
    models.register("a", flaky)
    # Then the second request loads it
    assert models.get("a") == ["a"]
    assert failed.value.status == 500
