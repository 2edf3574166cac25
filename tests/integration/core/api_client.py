"""Tests call the API handler exactly as the local gateway does."""

from prelabel_local.http_events import Reply, call_api

call = call_api

__all__ = ["Reply", "call"]
