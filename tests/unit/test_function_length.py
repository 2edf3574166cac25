"""The house rule "no function over 60 lines outside tests", checked on every source file: a
function that grows past it fails the unit tier (and so `make unit` and `make test`)."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 60
# Not the project's source: tests (long Given/When/Then bodies are allowed), installs, outputs.
SKIPPED_FOLDERS = {"tests", "node_modules", "build", "out", "__pycache__"}


def source_files(root: Path) -> Iterator[Path]:
    for folder, subfolders, files in os.walk(root):
        # Pruned, not filtered: the venvs alone hold tens of thousands of files.
        subfolders[:] = sorted(
            d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS
        )
        yield from (Path(folder) / name for name in sorted(files) if name.endswith(".py"))


def long_functions(source: str, where: str) -> list[str]:
    """Each function (or method, or nested function) longer than MAX_LINES, counted from its
    `def` line to its last line, docstring and comments included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_LINES:
                found.append(f"{where}:{node.lineno} {node.name} is {lines} lines")
    return found


def test_no_function_outside_tests_is_over_60_lines() -> None:
    # Given every Python file of the project outside tests/ (the layer, infra, functions,
    # benchmarks)
    files = list(source_files(ROOT))
    assert any(f.parts[-2:] == ("services", "runs.py") for f in files)
    assert not any("tests" in f.relative_to(ROOT).parts for f in files)
    # When each is parsed
    found = [
        problem
        for path in files
        for problem in long_functions(path.read_text(), str(path.relative_to(ROOT)))
    ]
    # Then none has a function longer than the limit
    assert found == [], "split these functions (house rule: at most 60 lines):\n" + "\n".join(found)


def test_the_check_finds_a_long_method_and_a_long_nested_function() -> None:
    # Given a method of 61 lines and a nested function of 61 lines inside a short-enough one
    body = "".join(f"        x{i} = {i}\n" for i in range(60))
    method = f"class A:\n    def long(self) -> None:\n{body}"
    nested = "def outer() -> None:\n    def inner() -> None:\n" + body
    # When they are checked
    found = long_functions(method, "a.py") + long_functions(nested, "b.py")
    # Then both are named with their length, and a 60-line function passes
    assert found == [
        "a.py:2 long is 61 lines",
        "b.py:1 outer is 62 lines",
        "b.py:2 inner is 61 lines",
    ]
    sixty = "def f() -> None:\n" + "".join(f"    y{i} = {i}\n" for i in range(59))
    assert long_functions(sixty, "c.py") == []
