"""Each test is marked with its tier by its folder (tests/conftest.py), so `-m` selects a tier
anywhere and no file has to say it by hand."""

from __future__ import annotations

import pytest

from tests.conftest import TESTS, tier_of


def test_a_unit_test_carries_the_unit_marker_and_no_other_tier(
    request: pytest.FixtureRequest,
) -> None:
    # Given this test, collected from tests/unit
    # When its markers are read
    names = {mark.name for mark in request.node.iter_markers()}
    # Then it is in the unit tier only
    assert "unit" in names
    assert not names & {"integration", "e2e"}


def test_the_tier_is_the_first_folder_under_tests() -> None:
    # Given test files at several depths, and files of tests/ that belong to no tier
    # When their tier is looked up
    # Then it is the folder right under tests/, whatever the depth below it
    assert tier_of(TESTS / "unit" / "core" / "test_services.py") == "unit"
    assert tier_of(TESTS / "integration" / "workflow" / "test_crash_injection.py") == "integration"
    assert tier_of(TESTS / "integration" / "test_x.py") == "integration"
    assert tier_of(TESTS / "e2e" / "test_demo.py") == "e2e"
    assert tier_of(TESTS / "local_aws.py") is None
    assert tier_of(TESTS / "elsewhere" / "test_y.py") is None
