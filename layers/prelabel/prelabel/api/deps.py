"""The API function's ports, built once at cold start (tests may install their own)."""

from __future__ import annotations

import os

from prelabel.settings import Settings
from prelabel.wiring import Ports, dynamo_ports

_ports: Ports | None = None


def ports() -> Ports:
    global _ports
    if _ports is None:
        _ports = dynamo_ports(Settings.from_env(os.environ))
    return _ports


def use_ports(p: Ports | None) -> None:
    global _ports
    _ports = p
