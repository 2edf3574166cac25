"""The unit tier runs without the network: any socket connection is a test failure."""

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
    # Integration fixtures earlier in the session point AWS clients at local servers; here
    # moto's in-process mocks answer, and they only see requests to AWS's own endpoints.
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
