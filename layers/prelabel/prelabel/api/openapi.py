"""The API's OpenAPI document, generated from the resolver (`python -m prelabel.api.openapi`)."""

from __future__ import annotations

import sys

from prelabel.api.app import app


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title="Prelabel API",
        version="1.0.0",
        summary="AI pre-labeling for image annotation projects",
        description=(
            "Every call acts for the organization in the caller's verified JWT "
            "(claim custom:org_id); other organizations' objects answer 404."
        ),
    )


if __name__ == "__main__":
    sys.stdout.write(openapi_json() + "\n")
