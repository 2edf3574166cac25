"""The export CLI outside the local stack says what it needs instead of failing on AWS
credentials."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("jwt", reason="the local stack's state names its JWT key: PyJWT (dev extra)")

from prelabel_local import export
from prelabel_local.state import StackState, write_state


def test_no_running_stack_is_named_with_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shell without the API function's environment and no local stack running
    for name in ("ORGANIZATIONS_TABLE", "PROJECTS_TABLE", "TASKS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRELABEL_LOCAL_DIR", str(tmp_path))
    # When a user exports a project
    status = export.main(["--project", "prj_1", "--org", "demo-org"])
    # Then it stops before any AWS call, saying which file it looked for and how to start a stack
    err = capsys.readouterr().err
    assert status == 2
    assert str(tmp_path / "stack.json") in err
    assert "python -m prelabel_local.stack" in err
    assert "ORGANIZATIONS_TABLE" in err


def test_a_stopped_stacks_state_file_is_not_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a state file left by a stack whose process is gone
    gone = StackState("http://127.0.0.1:1", "", "", "b", {}, pid=2**22 + os.getpid())
    path = write_state(gone, tmp_path / "stack.json")
    # When a user exports with it
    status = export.main(["--project", "prj_1", "--org", "demo-org", "--state", str(path)])
    # Then it says that stack has stopped
    assert status == 2
    assert "has stopped" in capsys.readouterr().err
