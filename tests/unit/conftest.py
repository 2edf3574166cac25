"""The unit tier runs without the network: any socket connection is a test failure, and no
local endpoint that an integration fixture of the same session exported is in the environment
(in-process mocks such as moto's `mock_aws` then answer every AWS call)."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest


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
