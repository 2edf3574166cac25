"""Export a project's labels through the API, in-process, as a user of one organization.

    python -m prelabel_local.export --project prj_... --org demo-org --format voc --out out/ \
        [--with-images]

The calls go through the API function's handler with the organization in the verified claims,
so the CLI sees exactly what that organization sees over HTTP and nothing of another one. The
tables and the jobs state machine come from the same environment variables as the deployed
function; without them, from the running local stack's state file (`.local/stack.json`, or
`--state FILE`). The stack must be running: the export is a job on its Step Functions. The CLI
starts the export job, follows its progress, and downloads the file from the presigned link
the API answers with once the file is in S3.

COCO is written as `<project>-coco.json`; every other format as `<project>-<format>.zip`, also
unpacked next to it. `--with-images` then copies each image from S3 to where the layout wants
it, as the archive's manifest (or COCO's file names) says, so the folder opens as it is in
supervision, CVAT or Ultralytics.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("coco", "yolo", "yolo_flat", "voc", "labelstudio")
MANIFEST = "prelabel_export.json"

# (bucket, key) -> the image's bytes
FetchImage = Callable[[str, str], bytes]


@dataclass(frozen=True)
class ExportReply:
    status: int
    content_type: str
    content: bytes
    filename: str | None

    def error_message(self) -> str:
        try:
            body: Any = json.loads(self.content)
        except ValueError:
            return self.content[:200].decode(errors="replace")
        return str(body.get("message", body)) if isinstance(body, dict) else ""


def _error(status: int, body: Any) -> ExportReply:
    return ExportReply(status, "application/json", json.dumps(body).encode(), None)


def fetch_export(
    org: str,
    project_id: str,
    fmt: str,
    *,
    timeout: float = 900.0,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> ExportReply:
    """Start the export job, wait for its file, download it from the link the API answers."""
    import requests

    from prelabel_local.harness import wait_until
    from prelabel_local.http_events import InProcessApi

    api = InProcessApi(org)
    path = f"/projects/{project_id}/export"
    started = api.call("GET", path, query={"format": fmt})
    if started.status != 202:
        return _error(started.status, started.body)
    job_id = str(started.body["job_id"])

    def ready() -> Any:
        reply = api.call("GET", path, query={"format": fmt, "job_id": job_id})
        if reply.status == 202:
            if on_progress is not None:
                on_progress(reply.body)
            return None
        return reply

    reply = wait_until(ready, what=f"export job {job_id}", timeout=timeout, interval=0.3)
    if reply.status != 200:
        return _error(reply.status, reply.body)
    download = requests.get(reply.body["url"], timeout=300)
    if download.status_code != 200:
        return _error(download.status_code, {"message": download.text[:300]})
    return ExportReply(
        200,
        download.headers.get("content-type", ""),
        download.content,
        str(reply.body["summary"]["filename"]),
    )


def unpack(content: bytes, folder: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        # extractall drops absolute and ".." parts of member names.
        archive.extractall(folder)


def s3_fetcher() -> FetchImage:
    import boto3

    s3 = boto3.client("s3")

    def fetch(bucket: str, key: str) -> bytes:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    return fetch


def _inside(folder: Path, relative: str) -> Path:
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise ValueError(f"{relative!r} would land outside {folder}")
    return target


def place_images(
    folder: Path, placements: Iterable[tuple[str, str, str]], fetch: FetchImage
) -> int:
    """Each (relative path, bucket, key) copied from S3 to `folder`/path; returns how many."""
    count = 0
    for relative, bucket, key in placements:
        target = _inside(folder, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fetch(bucket, key))
        count += 1
    return count


def manifest_placements(folder: Path) -> list[tuple[str, str, str]]:
    """Where an unpacked archive wants its images: the manifest's `image` of every file (Label
    Studio's point at S3 instead and have none)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    return [(f["image"], f["bucket"], f["image_key"]) for f in manifest["files"] if f["image"]]


def coco_placements(coco_path: Path) -> list[tuple[str, str, str]]:
    doc = json.loads(coco_path.read_text())
    return [(i["file_name"], i["prelabel_bucket"], i["prelabel_image_key"]) for i in doc["images"]]


def save_export(reply: ExportReply, project_id: str, fmt: str, out: Path) -> list[Path]:
    """Files written under `out`: the COCO document, or the zip and the folder it unpacks to."""
    out.mkdir(parents=True, exist_ok=True)
    # The name comes from our own API, but a path separator in it must not leave `out`.
    name = Path(reply.filename or f"{project_id}-{fmt}").name
    target = out / name
    target.write_bytes(reply.content)
    if fmt == "coco":
        return [target]
    folder = out / Path(name).stem
    unpack(reply.content, folder)
    return [target, folder]


def _find_stack(state_file: Path | None) -> str | None:
    """None once this process knows the stack's tables (its environment, an installed
    container, or the running local stack's state file); otherwise what is missing and how
    to get it."""
    from prelabel.container import container, use_container
    from prelabel.settings import FUNCTION_NEEDS, ConfigurationError, Settings
    from prelabel_local.state import NoLocalStack, read_state, use_local_stack

    if state_file is None:
        try:
            container("api")
            return None
        except ConfigurationError:
            use_container(None)  # not the half-configured one it just built
    try:
        use_local_stack(read_state(state_file))
    except NoLocalStack as exc:
        needs = [Settings.model_fields[f].alias or f for f in FUNCTION_NEEDS["api"]]
        return f"{exc}; or set the API function's environment ({', '.join(needs)})"
    use_container(None)  # the next call reads the stack's environment
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prelabel_local.export",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--project", required=True, help="project id, e.g. prj_...")
    parser.add_argument("--org", required=True, help="the organization the caller acts for")
    parser.add_argument("--format", choices=FORMATS, default="coco")
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument(
        "--with-images",
        action="store_true",
        help="copy the images from S3 into the layout (COCO: into <project>-coco-images/)",
    )
    parser.add_argument("--state", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    problem = _find_stack(args.state)
    if problem:
        print(f"export: {problem}", file=sys.stderr)
        return 2
    shown: list[int] = []

    def progress(job: dict[str, Any]) -> None:
        p = job["progress"]
        if not shown or shown[-1] != p["done"]:
            shown.append(p["done"])
            print(f"exporting: {p['done']} of {p['total']} tasks read", file=sys.stderr)

    reply = fetch_export(args.org, args.project, args.format, on_progress=progress)
    if reply.status != 200:
        print(f"export failed: HTTP {reply.status}: {reply.error_message()}", file=sys.stderr)
        return 1
    paths = save_export(reply, args.project, args.format, args.out)
    for path in paths:
        print(path)
    if args.with_images:
        if args.format == "coco":
            folder = paths[0].with_name(paths[0].stem + "-images")
            placements = coco_placements(paths[0])
        else:
            folder = paths[1]
            placements = manifest_placements(folder)
        count = place_images(folder, placements, s3_fetcher())
        print(f"{count} images under {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
