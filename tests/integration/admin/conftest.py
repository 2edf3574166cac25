"""The admin CLI in-process against the session's DynamoDB Local and moto, found through a
local stack state file as `prelabel-admin --local` finds a running stack."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from prelabel.container import Container, use_container
from prelabel.settings import Settings
from prelabel_admin import cli
from prelabel_local.state import StackState, write_state


@dataclass
class Ran:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def error(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.err)["error"]
        return body


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """The CLI points this process at its target (as it does in its own process)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    use_container(None)


@pytest.fixture
def shared_bucket(moto_endpoint: str) -> str:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def stack_settings(settings: Settings, shared_bucket: str) -> Settings:
    return settings.model_copy(
        update={"dataset_buckets": (settings.data_bucket or "", shared_bucket)}
    )


@pytest.fixture
def state_file(stack_settings: Settings, moto_endpoint: str, tmp_path: Path) -> Path:
    """What a running stack writes, naming these tables and endpoints (and this process)."""
    env = {
        Settings.model_fields[name].alias or name: str(value)
        for name, value in stack_settings.model_dump().items()
        if name.endswith("_table") or name in ("data_bucket", "state_machine_arn")
    }
    env |= {
        "DATASET_BUCKETS": ",".join(stack_settings.dataset_buckets),
        "AWS_ENDPOINT_URL_DYNAMODB": stack_settings.dynamodb_endpoint or "",
        "AWS_ENDPOINT_URL_S3": moto_endpoint,
    }
    state = StackState(
        gateway_url="http://127.0.0.1:1",
        s3_endpoint=moto_endpoint,
        dynamodb_endpoint=stack_settings.dynamodb_endpoint or "",
        data_bucket=stack_settings.data_bucket or "",
        env=env,
        pid=os.getpid(),
        dataset_buckets=stack_settings.dataset_buckets,
    )
    return write_state(state, tmp_path / "stack.json")


@pytest.fixture
def admin(state_file: Path, stack_settings: Settings):  # type: ignore[no-untyped-def]
    """`prelabel-admin --local <args>` against the state file; the API then sees the result."""
    use_container(Container(stack_settings))

    def run(*args: str) -> Ran:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stderr(err):
            status = cli.main(["--local", "--state", str(state_file), *args], out=out)
        return Ran(status, out.getvalue(), err.getvalue())

    return run
