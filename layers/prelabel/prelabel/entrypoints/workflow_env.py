"""The workflow functions' shared cold-start state: settings, ports, logger, metrics."""

from __future__ import annotations

import os
from functools import cache

from aws_lambda_powertools import Logger, Metrics

from prelabel.settings import Settings
from prelabel.wiring import Ports, dynamo_ports

logger = Logger(service="prelabel-workflow")
metrics = Metrics(namespace="Prelabel", service="prelabel-workflow")


@cache
def ports() -> Ports:
    return dynamo_ports(Settings.from_env(os.environ))
