"""API Lambda: the HTTP API's routes live in `prelabel.api`; this file is only the entry."""

from prelabel.api.app import handler

__all__ = ["handler"]
