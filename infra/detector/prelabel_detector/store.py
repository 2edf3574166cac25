"""Many models in one server: loaded on first use, least recently used evicted under a budget.

A model is *registered* (a name and where its files are) until it is removed, and *resident*
while loaded. Eviction only drops the loaded copy: the next request for it loads it again, so
SageMaker's view of what the container holds (registered models) never goes stale. Concurrent
requests for a model that is loading wait for that one load. Loads run one at a time, so the
memory a load adds is measured without another load's in it, and two cold loads never peak
together.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

LOG = logging.getLogger(__name__)
Model = TypeVar("Model")
# Memory of a model before it is loaded: its weights twice (file bytes, runtime copy) plus
# room for activations; replaced by what the load measurably added once it has run.
ESTIMATE_FACTOR = 2
ESTIMATE_EXTRA = 32 << 20


class StoreError(Exception):
    status = 500


class UnknownModelError(StoreError):
    status = 404


class ModelExistsError(StoreError):
    status = 409


class InsufficientMemoryError(StoreError):
    # What SageMaker's multi-model contract expects when a model cannot fit: it then unloads
    # models it considers unused and tries again.
    status = 507


class ModelLoadError(StoreError):
    status = 500


@dataclass
class _Entry(Generic[Model]):
    name: str
    source: Callable[[], Path]
    url: str
    model: Model | None = None
    cost: int = 0
    load_ms: float = 0.0
    last_used: float = 0.0
    loading: threading.Event | None = None
    error: StoreError | None = None


@dataclass
class StoreFigures:
    loads: int = 0
    evictions: int = 0
    # Requests that found their model loading and waited for that load instead of starting one.
    waits: int = 0
    load_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ModelState:
    name: str
    url: str
    resident: bool
    cost: int
    load_ms: float


class ModelStore(Generic[Model]):
    def __init__(
        self,
        load: Callable[[Path], Model],
        budget_bytes: int,
        estimate: Callable[[Path], int] | None = None,
        measure: Callable[[], int] | None = None,
    ) -> None:
        self._load = load
        self.budget = budget_bytes
        self._estimate = estimate or estimate_cost
        self._measure = measure or resident_bytes
        self._entries: dict[str, _Entry[Model]] = {}
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self.figures = StoreFigures()

    def register(self, name: str, source: Callable[[], Path], url: str = "") -> bool:
        """Know `name` (loaded on first use); False when it was registered already."""
        with self._lock:
            if name in self._entries:
                return False
            self._entries[name] = _Entry(name, source, url or name)
            return True

    def add(self, name: str, source: Callable[[], Path], url: str = "") -> Model:
        """Register and load now (the multi-model contract's load call)."""
        if not self.register(name, source, url):
            raise ModelExistsError(f"model {name} is already loaded")
        return self.get(name)

    def remove(self, name: str) -> None:
        with self._lock:
            if self._entries.pop(name, None) is None:
                raise UnknownModelError(f"model {name} is not loaded")

    def get(self, name: str) -> Model:
        """The loaded model, loading it first (or waiting for the load under way)."""
        while True:
            with self._lock:
                entry = self._entries.get(name)
                if entry is None:
                    raise UnknownModelError(f"model {name} is not loaded")
                if entry.model is not None:
                    entry.last_used = time.monotonic()
                    return entry.model
                pending = entry.loading
                if pending is None:
                    entry.loading = pending = threading.Event()
                    starter = True
                else:
                    self.figures.waits += 1
                    starter = False
            if starter:
                return self._load_entry(entry, pending)
            pending.wait()
            if entry.error is not None and entry.model is None:
                raise entry.error

    def states(self) -> list[ModelState]:
        with self._lock:
            return [
                ModelState(e.name, e.url, e.model is not None, e.cost, e.load_ms)
                for e in self._entries.values()
            ]

    def used(self) -> int:
        with self._lock:
            return sum(e.cost for e in self._entries.values() if e.model is not None)

    def _load_entry(self, entry: _Entry[Model], done: threading.Event) -> Model:
        try:
            with self._load_lock:
                model, cost, load_ms = self._measured_load(entry)
            with self._lock:
                entry.model, entry.cost, entry.load_ms = model, cost, load_ms
                entry.last_used = time.monotonic()
                entry.error = None
                self.figures.loads += 1
                self.figures.load_ms.append(load_ms)
                self._evict_over_budget(keep=entry.name)
            return model
        except StoreError as exc:
            entry.error = exc
            with self._lock:
                # A model that cannot be loaded is forgotten; asking again tries again.
                if self._entries.get(entry.name) is entry:
                    del self._entries[entry.name]
            raise
        finally:
            with self._lock:
                entry.loading = None
            done.set()

    def _measured_load(self, entry: _Entry[Model]) -> tuple[Model, int, float]:
        try:
            path = entry.source()
            estimate = self._estimate(path)
        except StoreError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"model {entry.name} cannot be fetched: {exc}") from exc
        if estimate > self.budget:
            raise InsufficientMemoryError(
                f"model {entry.name} needs about {estimate >> 20} MB; the budget is "
                f"{self.budget >> 20} MB"
            )
        with self._lock:
            self._evict_over_budget(keep=entry.name, incoming=estimate)
        before = self._measure()
        started = time.perf_counter()
        try:
            model = self._load(path)
        except MemoryError as exc:
            raise InsufficientMemoryError(f"model {entry.name} ran out of memory") from exc
        except Exception as exc:
            raise ModelLoadError(f"model {entry.name} cannot be loaded: {exc}") from exc
        load_ms = (time.perf_counter() - started) * 1000
        grown = self._measure() - before
        # Other requests allocate while a load runs, and freed memory is not always returned:
        # the measured growth is a figure, the estimate a floor under it.
        return model, max(grown, estimate), load_ms

    def _evict_over_budget(self, keep: str, incoming: int = 0) -> None:
        """Drop least recently used resident models until the budget holds (lock held)."""
        resident = sorted(
            (e for e in self._entries.values() if e.model is not None and e.name != keep),
            key=lambda e: e.last_used,
        )
        used = sum(e.cost for e in self._entries.values() if e.model is not None) + incoming
        for entry in resident:
            if used <= self.budget:
                break
            LOG.info("evicting model %s (%d MB)", entry.name, entry.cost >> 20)
            # Requests holding the model finish with it; its memory goes when they let go.
            entry.model = None
            used -= entry.cost
            self.figures.evictions += 1


def estimate_cost(path: Path) -> int:
    """Before loading: the weight files beside the descriptor, twice, plus activations."""
    files = path.iterdir() if path.is_dir() else iter([path])
    size = sum(f.stat().st_size for f in files if f.is_file())
    return size * ESTIMATE_FACTOR + ESTIMATE_EXTRA


def resident_bytes() -> int:
    """This process's resident memory (Linux /proc; 0 elsewhere, leaving estimates alone)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
