"""The unit tier runs without the network: any socket connection is a test failure, and no
local endpoint that an integration fixture of the same session exported is in the environment
(in-process mocks such as moto's `mock_aws` then answer every AWS call).

It needs the runtime dependencies and pytest alone (`make unit-fresh` proves it): a test that
needs more (a reader library, the detector's extra) skips, saying what it needs, where that is
not installed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
# Folders whose code is not the layer's, each with the modules it needs beyond the runtime set.
FOLDER_NEEDS = {
    HERE / "detector": ("numpy", "cv2", "onnxruntime", "moto"),
}


class SkippedFolder(pytest.Directory):
    """A folder of tests that cannot run here, reported skipped with what it needs."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        missing = [m for m in FOLDER_NEEDS[self.path] if find_spec(m) is None]
        folder = self.path.relative_to(HERE.parent.parent)
        pytest.skip(f"{folder} needs {', '.join(missing)} (detector extra, dev tools: make setup)")


def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    needs = FOLDER_NEEDS.get(path)
    if needs is not None and any(find_spec(m) is None for m in needs):
        return SkippedFolder.from_parent(parent, path=path)
    return None


class NetworkInUnitTest(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, *args: Any, **kwargs: Any) -> None:
        raise NetworkInUnitTest(f"unit tests must not open connections (tried {args!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") or n == "MOTO_PORT"]:
        monkeypatch.delenv(name)
