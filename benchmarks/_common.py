"""Shared pieces of the benchmarks: paths, and a counter of AWS API requests made in-process."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
COCO_DIR = SHARED / "data" / "coco-val-sample"
YOLOX_DIR = SHARED / "models" / "yolox-nano"


def median_ms(fn: Callable[[], Any], n: int) -> float:
    """The median of `n` timed calls of `fn`, in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def coco_photos() -> list[Path]:
    photos = sorted(COCO_DIR.glob("*.jpg"))
    if not photos:
        raise SystemExit(f"no photos under {COCO_DIR}")
    return photos


@dataclass
class Call:
    """One API request as the client sent it (before-call) and what came back (after-call)."""

    service: str
    operation: str
    params: dict[str, Any]
    started: float
    seconds: float = 0.0
    status: int = 0
    consumed: Any = None
    # Items a DynamoDB read returned (Query/Scan Count, BatchGetItem's Responses, GetItem 1).
    items: int = 0


@dataclass
class ApiCounter:
    """Counts every botocore request of this process with `before-call` / `after-call` hooks.

    The hooks are registered on each client at creation (`Session.create_client` is wrapped), so
    they see the functions' botocore clients, pynamodb's DynamoDB client, boto3 clients and the
    clients moto's Step Functions interpreter uses to call Lambda and S3. Only requests made
    while `recording` is set are kept.
    """

    calls: list[Call] = field(default_factory=list)
    recording: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _original: Any = None
    _muted: threading.local = field(default_factory=threading.local)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Requests this thread makes meanwhile are not counted (a benchmark's own polling)."""
        self._muted.on = True
        try:
            yield
        finally:
            self._muted.on = False

    def install(self) -> ApiCounter:
        counter = self
        original = botocore.session.Session.create_client
        self._original = original

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call", counter._before)
            client.meta.events.register("after-call", counter._after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            botocore.session.Session.create_client = self._original  # type: ignore[method-assign]

    def plain_client(self, service: str, **kwargs: Any) -> Any:
        """A client the counter does not see (the benchmark's own polling and read-back)."""
        create = self._original or botocore.session.Session.create_client
        return create(botocore.session.get_session(), service, **kwargs)

    def _before(self, event_name: str, model: Any, params: Any, context: Any, **_: Any) -> None:
        if not self.recording or getattr(self._muted, "on", False):
            return
        service = model.service_model.service_name  # "dynamodb", "s3", "sagemaker-runtime", ...
        call = Call(service, model.name, _api_params(params), time.perf_counter())
        context["_bench_call"] = call
        with self._lock:
            self.calls.append(call)

    def _after(self, http_response: Any, parsed: Any, context: Any, **_: Any) -> None:
        call: Call | None = context.get("_bench_call")
        if call is None:
            return
        call.seconds = time.perf_counter() - call.started
        call.status = getattr(http_response, "status_code", 0)
        if isinstance(parsed, dict):
            call.consumed = parsed.get("ConsumedCapacity")
            call.items = _items_read(parsed)

    def by_operation(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter((c.service, c.operation) for c in self.calls)

    def of(self, service: str, operation: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.service == service and (operation is None or c.operation == operation)
            ]

    def grouped(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for (service, operation), n in self.by_operation().items():
            out[service][operation] += n
        return out


def _items_read(parsed: dict[str, Any]) -> int:
    if "Count" in parsed:
        return int(parsed["Count"])
    if "Responses" in parsed:
        return sum(len(items) for items in parsed["Responses"].values())
    return 1 if "Item" in parsed else 0


def _api_params(request_dict: Any) -> dict[str, Any]:
    """The request body of a JSON-protocol call (DynamoDB), decoded; {} for the others."""
    body = request_dict.get("body") if isinstance(request_dict, dict) else None
    if isinstance(body, bytes | str) and body[:1] in (b"{", "{"):
        import json

        try:
            decoded = json.loads(body)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


def dynamo_item_bytes(value: Any) -> int:
    """DynamoDB's item-size rule on a typed attribute map: names plus values (UTF-8 bytes).

    Numbers count as about 1 byte per 2 significant digits plus 1, sets and lists add 3 bytes
    of overhead plus 1 per element, maps 3 bytes plus their names (the published rules).
    """
    return sum(len(name.encode()) + _attr_bytes(attr) for name, attr in value.items())


def _attr_bytes(attr: dict[str, Any]) -> int:
    (kind, v), *_ = attr.items()
    if kind == "S":
        return len(str(v).encode())
    if kind == "N":
        digits = str(v).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v) * 3 // 4 if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return 3 + sum(_attr_bytes({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + _attr_bytes(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _attr_bytes(x) for k, x in v.items())
    return len(str(v))


def read_units(call: Call) -> float:
    """Read request units of a DynamoDB read, from its request: 1 per item strongly consistent,
    0.5 eventually (every item these tables read is under 4 KB; a BatchGetItem is billed per
    key asked for, found or not). A Query counts 1: a lower bound, as its size is not kept."""
    params = call.params
    if call.operation == "GetItem":
        return 1.0 if params.get("ConsistentRead") else 0.5
    if call.operation == "BatchGetItem":
        return sum(
            len(table.get("Keys", [])) * (1.0 if table.get("ConsistentRead") else 0.5)
            for table in params.get("RequestItems", {}).values()
        )
    return 1.0 if call.operation in ("Query", "Scan", "TransactGetItems") else 0.0
