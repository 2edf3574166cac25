"""Uploading a model to a running stack as a client does: declare it (POST /models), POST the
file to the presigned form, say it is there (POST /models/{id}/versions), wait for the version.

    python -m prelabel_local.model_upload model.onnx --declared declared.json --name Forklifts \
        [--org demo-org] [--timeout 300]

acts as a user of `--org` on the stack `python -m prelabel_local.stack` runs (found through
.local/stack.json), prints the model with its versions as JSON, and exits 0 when the file's
version is READY, 1 when it is FAILED (the reason is printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from prelabel_local.harness import ApiClient, wait_until

# The presigned POST's own limit is 512 MB; a form post of that size takes a while.
POST_TIMEOUT_S = 600


def post_file(form: Mapping[str, Any], data: bytes, filename: str = "model.onnx") -> int:
    """The form's fields, then the file: what a browser's form post sends. The HTTP status."""
    reply = requests.post(
        str(form["url"]),
        data=dict(form["fields"]),
        files={"file": (filename, data, "application/octet-stream")},
        timeout=POST_TIMEOUT_S,
    )
    return reply.status_code


def outcome(model: Mapping[str, Any], upload_id: str) -> dict[str, Any] | None:
    """What became of an upload: its version once READY or FAILED, {} when the upload failed
    before naming one (no file, too large, the job died), None while it is on its way."""
    upload = next(u for u in model["uploads"] if u["upload_id"] == upload_id)
    if upload["version"]:
        version = next((v for v in model["versions"] if v["version"] == upload["version"]), None)
        if version is not None and version["status"] in ("READY", "FAILED"):
            return dict(version)
        return None
    return {} if upload["status"] == "FAILED" else None


def upload_model(
    api: ApiClient, declaration: Mapping[str, Any], data: bytes, timeout: float = 300.0
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Declare, post, submit and wait: (the model, the file's version, or None if the upload
    failed before naming one)."""
    created: dict[str, Any] = api.json("POST", "/models", dict(declaration))
    return upload_version(api, created["model"]["model_id"], created["upload"], data, timeout)


def upload_version(
    api: ApiClient,
    model_id: str,
    upload: Mapping[str, Any],
    data: bytes,
    timeout: float = 300.0,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    status = post_file(upload["form"], data)
    if status >= 300:
        raise RuntimeError(f"the upload form answered HTTP {status}")
    upload_id = str(upload["upload_id"])
    api.json("POST", f"/models/{model_id}/versions", {"upload_id": upload_id})

    def ended() -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        model: dict[str, Any] = api.json("GET", f"/models/{model_id}")
        found = outcome(model, upload_id)
        return None if found is None else (model, found or None)

    result: tuple[dict[str, Any], dict[str, Any] | None] = wait_until(
        ended, what=f"upload {upload_id}", timeout=timeout, interval=0.3
    )
    return result


def main(argv: list[str] | None = None) -> int:
    from prelabel_local.demo import Api
    from prelabel_local.jwt_keys import issue_token, load_or_create_key
    from prelabel_local.state import NoLocalStack, read_state

    parser = argparse.ArgumentParser(prog="python -m prelabel_local.model_upload")
    parser.add_argument("model", type=Path, help="the .onnx file")
    parser.add_argument("--declared", type=Path, required=True, help="JSON: family, ...")
    parser.add_argument("--name", help="the model's name (default: the file's stem)")
    parser.add_argument("--org", default=None, help="act for this organization")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    try:
        state = read_state()
    except NoLocalStack as exc:
        print(f"model_upload: {exc}", file=sys.stderr)
        return 2
    token = issue_token(
        load_or_create_key(), org_id=args.org or state.org_id or "demo-org", ttl=3600
    )
    declaration = json.loads(args.declared.read_text())
    declaration.setdefault("name", args.name or args.model.stem)
    api = Api(state.api_url, token)
    model, version = upload_model(api, declaration, args.model.read_bytes(), args.timeout)
    print(json.dumps(model, indent=2))
    if version is None or version["status"] != "READY":
        failed = version or next(u for u in model["uploads"] if u["status"] == "FAILED")
        print(f"FAILED: {failed['reason']}", file=sys.stderr)
        return 1
    print(f"READY: model {model['model_id']} version {version['version']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
