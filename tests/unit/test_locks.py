"""The locked installs agree with pyproject.toml and with each other (`make lock` writes them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def pins(path: Path) -> dict[str, Version]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = Version(match[2])
    return found


def project() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return data


def _requirements(extra: str | None) -> list[Requirement]:
    p = project()
    if extra is None:
        return [Requirement(r) for r in p["dependencies"]]  # type: ignore[union-attr]
    found = []
    for raw in p["optional-dependencies"][extra]:  # type: ignore[index]
        req = Requirement(raw)
        if canonicalize_name(req.name) == "prelabel":
            for inner in sorted(req.extras):
                found += _requirements(inner)
        else:
            found.append(req)
    return found


@pytest.mark.parametrize(
    ("extra", "lock"),
    [
        (None, "runtime"),
        ("detector", "detector"),
        ("validation", "validation"),
        ("dev", "dev"),
        (None, "unit"),
        ("unit", "unit"),
    ],
)
def test_every_declared_dependency_is_locked_at_a_version_it_accepts(
    extra: str | None, lock: str
) -> None:
    # Given the set's requirements in pyproject.toml and its lock file
    locked = pins(LOCKS / f"{lock}.txt")
    # When each requirement is looked up in the lock
    # Then it is pinned there at a version its specifier accepts (the lock is not stale)
    for req in _requirements(extra):
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in locked, f"{req} is not in requirements/{lock}.txt: run `make lock`"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"{req} but requirements/{lock}.txt pins {locked[name]}: run `make lock`"
        )


def test_the_layer_ships_exactly_the_runtime_lock_at_the_versions_tests_run() -> None:
    # Given the layer's requirements, the runtime lock and the dev lock
    layer = (ROOT / "layers" / "prelabel" / "requirements.txt").read_text()
    runtime = (LOCKS / "runtime.txt").read_text()
    # When they are compared
    # Then the layer's file is the runtime lock (under a header), and every package the layer
    # ships is the version the tests install
    assert layer.endswith(runtime)
    assert all(line.startswith("#") for line in layer[: -len(runtime)].splitlines())
    dev = pins(LOCKS / "dev.txt")
    different = {
        n: (v, dev.get(n)) for n, v in pins(LOCKS / "runtime.txt").items() if dev.get(n) != v
    }
    assert different == {}


@pytest.mark.parametrize("lock", ["runtime", "detector", "validation", "dev", "unit", "checkov"])
def test_every_locked_package_carries_hashes(lock: str) -> None:
    # Given a lock file
    text = (LOCKS / f"{lock}.txt").read_text()
    # When its entries are split
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    # Then each pinned package lists at least one sha256 (pip --require-hashes installs it)
    for entry in entries:
        if PIN.match(entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_unit_lock_is_the_runtime_lock_and_pytest_only() -> None:
    # Given the unit tier's lock (`make unit-fresh` installs it alone) and the runtime lock
    unit, runtime = pins(LOCKS / "unit.txt"), pins(LOCKS / "runtime.txt")
    # When they are compared
    # Then the unit set holds every runtime package at the layer's version, and beyond those
    # only pytest and what pytest itself needs
    assert {n: unit.get(n) for n in runtime} == runtime
    assert set(unit) - set(runtime) <= {"pytest", "iniconfig", "pluggy", "packaging", "pygments"}
    assert "pytest" in unit


def test_the_validation_image_ships_the_versions_tests_run() -> None:
    # Given the validation function's lock (what its image installs) and the dev lock
    dev = pins(LOCKS / "dev.txt")
    # When their pins are compared
    different = {
        n: (v, dev.get(n)) for n, v in pins(LOCKS / "validation.txt").items() if dev.get(n) != v
    }
    # Then the image validates with exactly the versions the tests validated with
    assert different == {}
