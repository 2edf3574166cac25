"""`python -m prelabel_local.stack` as the README says to run it: in a subprocess, it prints a
page URL with a token, the API base and the S3 endpoint, and the project is there to use. The
README's commands are read from the README itself and run with `--port 0` added (argparse keeps
the last value), so a busy port 8080 on the machine cannot fail the test.

The stack writes its state and key under PRELABEL_LOCAL_DIR (the test's folder), never the
repository's `.local/`.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from prelabel_local.harness import wait_until
from prelabel_local.state import local_client

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ".venv/bin/python"
START_TIMEOUT_S = 180


def readme_stack_commands() -> list[list[str]]:
    """Every stack command line of the README's code blocks, as argv (comments dropped)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", text, flags=re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()]
    prefix = f"{VENV_PYTHON} -m prelabel_local.stack"
    return [shlex.split(line, comments=True) for line in lines if line.startswith(prefix)]


def readme_command(*flags: str) -> list[str]:
    """The README's command with exactly these flags (in its order)."""
    for argv in readme_stack_commands():
        if [a for a in argv[3:] if a.startswith("--")] == list(flags):
            return argv
    raise AssertionError(f"the README shows no stack command with flags {flags}")


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def field(self, label: str) -> str:
        line = next(line for line in self.lines if line.strip().startswith(label + " "))
        return line.strip()[len(label) :].split()[0]

    @property
    def ready(self) -> bool:
        return any("local stack ready" in line for line in self.lines)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def start(argv: list[str], cwd: Path, env: dict[str, str]) -> RunningStack:
    # The README's `.venv/bin/python` is this interpreter; everything after it is verbatim.
    assert argv[0] == VENV_PYTHON
    command = [sys.executable, *argv[1:], "--port", "0"]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    stack = RunningStack(process)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()

    def up() -> bool | None:
        if process.poll() is not None:
            raise AssertionError(f"the stack exited {process.returncode}: {stack.lines}")
        return stack.ready or None

    wait_until(up, what="the stack's ready message", timeout=START_TIMEOUT_S, interval=0.5)
    return stack


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return clean | {"PRELABEL_LOCAL_DIR": str(tmp_path / "local-dir")}


@pytest.fixture
def running(tmp_path: Path, env: dict[str, str]) -> Iterator[RunningStack]:
    stack = start(readme_command(), tmp_path, env)
    yield stack
    if stack.process.poll() is None:
        stack.stop()


def run_cli(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """A CLI run in a process of its own next to the stack, as a user runs it."""
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def get(url: str, token: str, **params: str) -> Any:
    reply = requests.get(
        url, headers={"Authorization": f"Bearer {token}"}, params=params, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_printed_page_and_token_show_a_ready_project(
    running: RunningStack, tmp_path: Path, env: dict[str, str]
) -> None:
    # Given the README's stack command, running
    page = running.field("Page")
    api = running.field("API base")
    token = running.field("Token")
    # When the printed page is fetched, and its API is asked with the printed token
    html = requests.get(page.split("#")[0], timeout=30)
    icon = requests.get(page.split("#")[0] + "favicon.svg", timeout=30)
    projects = get(f"{api}/projects", token)
    project_id = projects[0]["project_id"]
    tasks = get(f"{api}/projects/{project_id}/tasks", token, limit="200")["tasks"]
    assistant = get(f"{api}/projects/{project_id}/assistant", token)
    # Then the page is served with the token in its fragment, and demo-org has one project whose
    # sample photos are tasks WAITING for pre-labeling, mapped, ready to start
    assert html.status_code == 200 and "<html" in html.text
    assert '<link rel="icon" href="favicon.svg"' in html.text
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
    assert page.endswith(f"#token={token}")
    assert [p["name"] for p in projects] == ["Street and animals"]
    assert len(tasks) >= 7
    assert {t["state"] for t in tasks} == {"WAITING"}
    assert all(t["image_key"].startswith("demo-org/photos/") for t in tasks)
    assert assistant["can_start"] is True, assistant["start_blockers"]
    assert assistant["mapping"]["rows"]
    # And the admin and export CLIs find this stack through its state file
    admin_cli = str(Path(sys.executable).parent / "prelabel-admin")
    admin = run_cli([admin_cli, "--local", "org", "show", "demo-org", "--json"], tmp_path, env)
    assert admin.returncode == 0, admin.stderr
    assert admin.stdout and '"plan": "TEAM_PRO"' in admin.stdout
    export = run_cli(
        [
            sys.executable,
            "-m",
            "prelabel_local.export",
            "--project",
            project_id,
            "--org",
            "demo-org",
            "--format",
            "coco",
            "--out",
            str(tmp_path / "export"),
        ],
        tmp_path,
        env,
        timeout=120,
    )
    assert export.returncode == 0, export.stderr
    assert (tmp_path / "export" / f"{project_id}-coco.json").is_file()
    # And Ctrl-C stops it cleanly and takes the state file away
    assert running.stop() == 0
    assert not (tmp_path / "local-dir" / "stack.json").exists()


def test_persisted_stack_keeps_its_data_across_a_restart(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # Given the README's persisted stack, started once, with a photo uploaded to its S3 endpoint
    argv = readme_command("--persist")
    first = start(argv, tmp_path, env)
    s3_endpoint, token, api = first.field("S3"), first.field("Token"), first.field("API base")
    project_id = get(f"{api}/projects", token)[0]["project_id"]
    s3 = local_client("s3", s3_endpoint)
    s3.put_object(Bucket="prelabel-local-data", Key="demo-org/more/extra.jpg", Body=b"later")
    tasks_before = len(get(f"{api}/projects/{project_id}/tasks", token, limit="200")["tasks"])
    # When it is stopped with Ctrl-C and started again on the same folder
    assert first.stop() == 0
    second = start(argv, tmp_path, env)
    try:
        api2, token2, s3_2 = second.field("API base"), second.field("Token"), second.field("S3")
        projects = get(f"{api2}/projects", token2)
        tasks_after = get(f"{api2}/projects/{project_id}/tasks", token2, limit="200")["tasks"]
        s3 = local_client("s3", s3_2)
        body = s3.get_object(Bucket="prelabel-local-data", Key="demo-org/more/extra.jpg")
        # Then the same one project and its tasks are there, nothing seeded twice, and the
        # uploaded object survived
        assert [p["project_id"] for p in projects] == [project_id]
        assert len(tasks_after) == tasks_before
        assert body["Body"].read() == b"later"
        assert any("kept from before" in line for line in second.lines)
    finally:
        second.stop()
