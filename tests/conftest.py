"""Test tiers by folder: every test under tests/unit, tests/integration or tests/e2e gets the
marker of that name here (`pytest -m integration` works anywhere), none by hand.

The unit tier runs with the runtime dependencies and pytest alone (`make unit-fresh`), so this
file imports nothing more: the local AWS's fixtures (moto server, DynamoDB Local, the jobs
state machine, settings, ports) are the plugin tests/local_aws.py, loaded only when a run
collects tests beyond tests/unit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "e2e")
LOCAL_AWS_PLUGIN = "tests.local_aws"


def pytest_configure(config: pytest.Config) -> None:
    # `config.args` are the paths (or node ids) asked for, or testpaths when none was.
    if any(_beyond_unit(config, arg) for arg in config.args):
        config.pluginmanager.import_plugin(LOCAL_AWS_PLUGIN)


def _beyond_unit(config: pytest.Config, arg: str) -> bool:
    path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
    return not path.is_relative_to(TESTS / "unit")


def tier_of(path: Path) -> str | None:
    """The tier a test file belongs to: the first folder under tests/."""
    parts = path.resolve().relative_to(TESTS).parts
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item.path)
        if tier is not None:
            item.add_marker(tier)
