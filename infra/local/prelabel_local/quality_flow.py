"""What a client does to bring reviewed labels back and read the quality report, written once
for the tests, the e2e page tests and the README's how-to: upload the file with the presigned
POST (straight to S3), import it (a job), compute the report (a job), read it."""

from __future__ import annotations

from typing import Any

import requests

from prelabel_local.harness import ApiClient, wait_for_job


def upload_file(api: ApiClient, project_id: str, name: str, data: bytes) -> str:
    """The file POSTed to S3 with the form the API signs; its key."""
    ticket: dict[str, Any] = api.json(
        "POST", f"/projects/{project_id}/reviewed-labels/uploads", {"file_name": name}
    )
    reply = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": (name, data)}, timeout=60
    )
    if reply.status_code not in (200, 201, 204):
        raise RuntimeError(
            f"upload to {ticket['url']}: HTTP {reply.status_code} {reply.text[:300]}"
        )
    return str(ticket["key"])


def import_reviewed(
    api: ApiClient, project_id: str, key: str, timeout: float = 300.0, **options: str
) -> dict[str, Any]:
    """The import job once it has ended (its result holds the report)."""
    job = api.json("POST", f"/projects/{project_id}/reviewed-labels", {"key": key, **options})
    ended: dict[str, Any] = wait_for_job(api, project_id, job["job_id"], timeout)
    return ended


def compute_quality(
    api: ApiClient, project_id: str, *, by_run: bool = False, timeout: float = 300.0
) -> dict[str, Any]:
    job = api.json("POST", f"/projects/{project_id}/quality", {"by_run": by_run})
    ended: dict[str, Any] = wait_for_job(api, project_id, job["job_id"], timeout)
    return ended


def quality(
    api: ApiClient, project_id: str, scope: str = "all", target: float = 0.9
) -> dict[str, Any]:
    report: dict[str, Any] = api.json(
        "GET",
        f"/projects/{project_id}/quality",
        query={"scope": scope, "target_precision": str(target)},
    )
    return report
