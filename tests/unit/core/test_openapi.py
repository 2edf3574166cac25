"""The committed OpenAPI document is the one the resolver generates now."""

from __future__ import annotations

import json
from pathlib import Path

from prelabel.api.openapi import openapi_json

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_routes() -> None:
    # Given the document in docs/; When the resolver generates it again
    generated = json.loads(openapi_json())
    committed = json.loads(DOC.read_text())
    # Then they are equal (regenerate with `make openapi` after changing a route)
    assert committed == generated
    # And every route of the API is documented with its request bodies
    assert "/projects/{project_id}/mapping" in committed["paths"]
    put = committed["paths"]["/projects/{project_id}/mapping"]["put"]
    assert "requestBody" in put
