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


def test_document_names_security_servers_and_every_answer() -> None:
    # Given the document the resolver generates
    doc = json.loads(openapi_json())
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    # Then every call needs the bearer JWT, and the first server is the gateway's /api
    scheme = doc["components"]["securitySchemes"]["bearerJwt"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert doc["security"] == [{"bearerJwt": []}]
    assert doc["servers"][0]["url"] == "/api"
    # And creating routes answer 201, routes that start a job 202 (with the job, or the
    # dataset and its job), and every error of every route is the one Error schema
    created = {(p, m) for p, m, op in operations if "201" in op["responses"]}
    assert created == {
        ("/projects", "post"),
        ("/projects/{project_id}/runs", "post"),
        ("/models", "post"),
        ("/models/{model_id}/uploads", "post"),
    }
    accepted = {
        (p, m): op["responses"]["202"]["content"]["application/json"]["schema"]["$ref"]
        for p, m, op in operations
        if "202" in op["responses"]
    }
    job = "#/components/schemas/JobOut"
    assert accepted == {
        ("/projects/{project_id}/datasets", "post"): "#/components/schemas/DatasetOut",
        ("/projects/{project_id}/datasets/{dataset_id}", "delete"): job,
        ("/projects/{project_id}/datasets/{dataset_id}/reconnect", "post"): job,
        ("/projects/{project_id}/tasks/move", "post"): job,
        ("/projects/{project_id}/export", "get"): job,
        ("/projects/{project_id}/reshard", "post"): job,
        ("/projects/{project_id}/reviewed-labels", "post"): job,
        ("/projects/{project_id}/quality", "post"): job,
        # the model's validation job starts: the upload, VALIDATING
        ("/models/{model_id}/versions", "post"): "#/components/schemas/ModelUploadOut",
        ("/projects/{project_id}/review-sample", "post"): job,
        ("/projects/{project_id}/review-sample/{job_id}", "get"): job,
    }
    for path, method, op in operations:
        errors = {c: r for c, r in op["responses"].items() if c >= "400"}
        assert {"400", "401", "403", "413", "415", "422", "500", "503"} <= set(errors), path
        assert ("404" in errors) == ("{" in path), (path, method)
        refs = {r["content"]["application/json"]["schema"]["$ref"] for r in errors.values()}
        assert refs == {"#/components/schemas/Error"}, (path, method)
        # And each has a tag and a summary written for people, not the method and path
        assert op["tags"] and op["summary"] != f"{method.upper()} {path}", (path, method)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
