"""botocore sessions that share one loader of botocore's data files, per process.

A fresh botocore session parses the JSON that describes a service (its model, endpoints,
partitions) anew: ~95 ms per client on this project's machines, ~15 ms with the parsed data
shared. pynamodb makes a session per connection and thread (one per model class: about ten on a
view's first request, and again whenever a test or a cold start binds the tables), and the
container one per client; sharing the loader makes that ~6x cheaper.
"""

from __future__ import annotations

from threading import Lock
from typing import Any

import botocore.session
from botocore.loaders import Loader, create_loader

_loader: Loader | None = None
_lock = Lock()


def session(
    env_vars: dict[str, tuple[Any, Any, Any, Any]] | None = None,
) -> botocore.session.Session:
    """A new botocore session (its own credentials and clients) reading the shared loader;
    `env_vars` as botocore's `get_session` takes them."""
    global _loader
    with _lock:
        if _loader is None:
            _loader = create_loader()
        loader = _loader
    fresh = botocore.session.get_session(env_vars)
    fresh.register_component("data_loader", loader)
    return fresh


def share_with_pynamodb() -> None:
    """pynamodb's connections call botocore's `get_session` themselves (pynamodb has no hook
    for a session of one's own): theirs become these."""
    import pynamodb.connection.base

    # It imports the name from botocore without re-exporting it, hence the ignore.
    pynamodb.connection.base.get_session = session  # type: ignore[attr-defined]
