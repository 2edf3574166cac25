"""The API's OpenAPI document, generated from the resolver (`python -m prelabel.api.openapi`).

Powertools documents each route's success body (from its return annotation) and request body;
this adds what the resolver cannot know: the bearer-JWT scheme, the servers, and every error
status a route can answer, all with the one `Error` schema of `prelabel.api.errors`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from prelabel.api.app import MAX_BODY_BYTES, NOT_SET_UP, app
from prelabel.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"
SECURITY_SCHEME = "bearerJwt"

# Answered by every route: refusals before routing, validation, and failures.
COMMON_ERRORS: dict[int, str] = {
    400: (
        "Bad input: a body that is not UTF-8 JSON, a garbled cursor, or a value a rule refuses "
        "(`field` names it)"
    ),
    401: "No valid bearer token",
    403: (
        f'"{NOT_SET_UP}" for a token whose organization no operator has set up; otherwise '
        "the plan does not allow this, or a data location outside the organization's"
    ),
    413: f"A body over {MAX_BODY_BYTES} bytes",
    415: "A body whose Content-Type is not application/json",
    422: "The request does not match this document (`field` names the part and the value)",
    500: "Unexpected error (details in the function's logs)",
    503: "A storage or workflow call failed; try again",
}
NOT_FOUND = "No such object for the caller's organization (another organization's answer the same)"
CONFLICT = "Clashes with the current state: a run is active, the dataset is already connected, ..."
# Success statuses besides the route's own (Powertools documents one per route).
OTHER_SUCCESSES: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/projects/{project_id}/runs"): {
        200: "Not started: a run is already active, or the caller must confirm a partial run",
    },
}
TAGS = [
    {"name": "Projects", "description": "Projects and their label configuration"},
    {"name": "Datasets", "description": "Images in S3 connected to a project, as tasks"},
    {"name": "Tasks", "description": "One image of a project each: states, labels, previews"},
    {"name": "Pre-labeling", "description": "Mapping, limit, and the runs that pre-label"},
    {"name": "Exports", "description": "A project's labels as COCO, YOLO or Pascal VOC"},
    {
        "name": "Quality",
        "description": "Reviewed labels brought back from review tools, and the quality of "
        "pre-labels against them: per class figures and calibrated thresholds",
    },
    {
        "name": "Review",
        "description": "Review samples: pre-labeled tasks drawn per class for people to review",
    },
    {
        "name": "Jobs",
        "description": "Work that grows with the project (imports, moves, disconnects, "
        "reconnects, exports), done in the background with visible progress",
    },
    {
        "name": "Models",
        "description": "The organization's own detectors (ONNX files, validated in a job) "
        "and the built-in ones",
    },
]
# Reads of a job's file, which answer 409 when the job failed.
READS_OF_FAILED_JOBS = {
    ("get", "/projects/{project_id}/export"),
    ("get", "/projects/{project_id}/review-sample/{job_id}"),
}
UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }


def _responses(path: str, method: str, generated: dict[str, Any]) -> dict[str, Any]:
    success = {code: r for code, r in generated.items() if code.startswith("2")}
    for code, description in OTHER_SUCCESSES.get((method, path), {}).items():
        template = next(iter(success.values()))
        success[str(code)] = {**template, "description": description}
    errors = dict(COMMON_ERRORS)
    if "{" in path:
        errors[404] = NOT_FOUND
    if method != "get" or (method, path) in READS_OF_FAILED_JOBS:
        errors[409] = CONFLICT
    out = dict(sorted(success.items()))
    for code in sorted(errors):
        out[str(code)] = _error_response(errors[code])
    return out


def openapi_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="Prelabel API",
            version="1.0.0",
            summary="AI pre-labeling for image annotation projects",
            description=(
                "Every call acts for the organization in the caller's verified JWT "
                "(claim custom:org_id), which an operator must have set up; other "
                "organizations' objects answer 404. Request bodies are JSON (UTF-8, at most "
                f"{MAX_BODY_BYTES} bytes). Every error has the `Error` shape."
            ),
        )
    )
    doc["servers"] = [
        {
            "url": "/api",
            "description": "The local gateway, and the web page's own origin",
        },
        {
            "url": "https://{api_id}.execute-api.{region}.amazonaws.com",
            "description": "A deployed stack: the HttpApi URL (stack output ApiUrl)",
            "variables": {"api_id": {"default": "api-id"}, "region": {"default": "us-east-1"}},
        },
    ]
    doc["security"] = [{SECURITY_SCHEME: []}]
    doc["tags"] = TAGS
    components = doc.setdefault("components", {})
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The Cognito ID token; its custom:org_id claim names the organization.",
        }
    }
    schemas = components.setdefault("schemas", {})
    for name in UNUSED_SCHEMAS:
        schemas.pop(name, None)
    error = ErrorOut.model_json_schema(ref_template=REF)
    error["title"] = "Error"
    schemas["Error"] = error
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            operation["responses"] = _responses(path, method, operation["responses"])
    return doc


def openapi_json() -> str:
    return json.dumps(openapi_document(), indent=2)


if __name__ == "__main__":
    sys.stdout.write(openapi_json() + "\n")
