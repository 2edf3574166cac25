"""Where the running local stack is: a small JSON file the stack writes when it is ready and
removes when it stops, so tools in other processes (the admin CLI, the export CLI) find its
endpoints, tables and bucket.

    <repo>/.local/stack.json      (PRELABEL_LOCAL_DIR moves the folder, as for the JWT key)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import boto3

from prelabel_local.jwt_keys import default_key_dir

STATE_FILE = "stack.json"
# Local endpoints take any credentials; these keep every call away from a real account.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def local_client(service: Literal["dynamodb", "s3"], endpoint: str) -> Any:
    """A boto3 client of a local endpoint with the local credentials, whatever this process's
    environment holds (none in a test's clean one, a real account's in a developer's)."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=LOCAL_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


class NoLocalStack(RuntimeError):
    """No local stack is running where the state file says (or there is no state file)."""


@dataclass(frozen=True)
class StackState:
    gateway_url: str
    s3_endpoint: str
    dynamodb_endpoint: str
    data_bucket: str
    # The functions' environment: tables, bucket, endpoints (what each local function reads).
    env: dict[str, str]
    pid: int
    dataset_buckets: tuple[str, ...] = ()
    org_id: str | None = None
    persist_dir: str | None = None

    @property
    def api_url(self) -> str:
        return f"{self.gateway_url}/api"


def default_state_path() -> Path:
    return default_key_dir() / STATE_FILE


def write_state(state: StackState, path: Path | None = None) -> Path:
    """Written whole or not at all: a reader never sees half a file."""
    target = path or default_state_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".stack-")
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(state), f, indent=2)
    os.replace(tmp, target)
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def read_state(path: Path | None = None) -> StackState:
    """The running stack's state; NoLocalStack saying how to start one otherwise."""
    source = path or default_state_path()
    start = "start it with `.venv/bin/python -m prelabel_local.stack`"
    try:
        raw = json.loads(source.read_text())
    except FileNotFoundError as exc:
        raise NoLocalStack(f"no local stack is running ({source} does not exist): {start}") from exc
    except ValueError as exc:
        raise NoLocalStack(f"{source} is not a stack state file ({exc}): {start}") from exc
    raw["dataset_buckets"] = tuple(raw.get("dataset_buckets") or ())
    try:
        state = StackState(**raw)
    except TypeError as exc:
        raise NoLocalStack(f"{source} is not a stack state file ({exc}): {start}") from exc
    if not _alive(state.pid):
        raise NoLocalStack(f"the local stack of {source} (pid {state.pid}) has stopped: {start}")
    return state


def remove_state(path: Path | None = None, pid: int | None = None) -> None:
    """Remove the file if it is this process's (`pid`); another stack's file stays."""
    target = path or default_state_path()
    with contextlib.suppress(FileNotFoundError, ValueError):
        if pid is None or json.loads(target.read_text()).get("pid") == pid:
            target.unlink()


def use_local_stack(state: StackState) -> None:
    """This process talks to the local stack: its endpoints, tables and local credentials."""
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(state.env)
