"""The core integration fixture make_org, reused as is."""

from tests.integration.core.conftest import make_org

__all__ = ["make_org"]
