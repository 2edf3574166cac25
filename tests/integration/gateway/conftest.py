"""A local gateway on a free port, in front of the API handler bound to fresh tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from prelabel.container import Container
from prelabel_local.gateway import GatewayConfig, LocalGateway
from prelabel_local.jwt_keys import JwtVerifier, SigningKey, generate_key
from tests.integration.core.conftest import make_org, ports

__all__ = ["gateway", "make_org", "ports", "signing_key", "static_dir"]


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    # A key of the test's own, so the tests never depend on (or write) the repository's .local/.
    return generate_key()


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "web"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>Prelabel</h1>")
    (folder / "app.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("outside the static folder")
    return folder


@pytest.fixture
def gateway(ports: Container, signing_key: SigningKey, static_dir: Path) -> Iterator[str]:
    server = LocalGateway(GatewayConfig(JwtVerifier.for_key(signing_key), static_dir)).start()
    yield server.url
    server.stop()
