"""The core integration fixtures (ports on fresh DynamoDB Local tables, make_org), reused as is."""

from tests.integration.core.conftest import make_org, ports

__all__ = ["make_org", "ports"]
