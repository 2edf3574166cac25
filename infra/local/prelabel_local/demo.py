"""The product's main job on this machine, end to end: `make demo`.

    python -m prelabel_local.demo [--out out/] [--no-coco] [--limit N] [--port 0]

1. Starts the embedded local stack (DynamoDB Local, moto with Step Functions running the real
   ASL and Lambda handlers, the local detector endpoint) and the JWT-checking gateway.
2. Provisions the TEAM_PRO organization `demo-org` (out of band, as an operator would: there is
   no API for it) and signs a token for its demo user with the local key.
3. Everything else goes over HTTP to the gateway with that Bearer token, as a user's client:
   a project (Vehicle, Person, Animal boxes and a Road polygon), photos landing in the data
   bucket and connected as a dataset (an import job, followed until the dataset is READY),
   all tasks moved to WAITING (a job too), the class mapping, the start of pre-labeling
   (going ahead past an "only X of Y" answer), a progress bar while it runs, the summary, and
   `out/`: one preview per task with its boxes drawn, every export (COCO, YOLO, flat YOLO,
   Pascal VOC, Label Studio: each an export job whose file is downloaded from the link the
   API answers with) unpacked with its images in place, `summary.json`, and
   `export_check.json`: what pycocotools, supervision and label-studio-sdk read from them.
4. Stops everything, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import boto3
import requests

from prelabel.container import Container
from prelabel.settings import Settings
from prelabel_local.demo_photos import COCO_SAMPLE, Photo, demo_photos
from prelabel_local.demo_project import CLASS_MAP, DEFAULT_THRESHOLD, LABEL_CONFIG, mapping_body
from prelabel_local.export import (
    coco_placements,
    manifest_placements,
    place_images,
    s3_fetcher,
    unpack,
)
from prelabel_local.export_check import check_exports as read_with_libraries
from prelabel_local.export_check import format_results
from prelabel_local.gateway import GatewayConfig, LocalGateway
from prelabel_local.harness import all_tasks, seed_organization
from prelabel_local.jwt_keys import JwtVerifier, issue_token, load_or_create_key
from prelabel_local.preview import write_preview
from prelabel_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[3]
ORG_ID = "demo-org"
DATA_PREFIX = f"{ORG_ID}/photos/"

ACTIVE = ("RUNNING", "STOPPING")


class DemoError(RuntimeError):
    """A step of the demo that the API refused; the message carries the API's answer."""


@dataclass
class Api:
    """The user's HTTP client: every call carries the Bearer token, errors become DemoError."""

    base_url: str
    token: str
    session: requests.Session = field(default_factory=requests.Session)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202),
    ) -> requests.Response:
        response = self.session.request(
            method,
            self.base_url + path,
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
        )
        if response.status_code not in ok:
            raise DemoError(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response

    def json(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Any:
        return self.call(method, path, body, params=query).json()


# Out of band: the stack, the organization, the token


def provision_demo_org(org_id: str, limit: int | None) -> None:
    """What an operator does when a customer signs up: the organization on TEAM_PRO. `limit`
    lowers its remaining AI assistance this month, to show the "only X of Y" confirmation."""
    seed_organization(
        Container(Settings.from_env(os.environ)),
        org_id,
        name="Demo organization",
        remaining=limit,
    )


# Steps over HTTP


def upload_photos(photos: list[Photo], bucket: str, prefix: str) -> None:
    """The user's photos landing in their bucket (moto's S3 at AWS_ENDPOINT_URL_S3)."""
    s3 = boto3.client("s3")
    for photo in photos:
        s3.put_object(
            Bucket=bucket, Key=prefix + photo.name, Body=photo.body, ContentType="image/jpeg"
        )


def start_run(api: Api, project_id: str, say: Callable[[str], None]) -> dict[str, Any]:
    path = f"/projects/{project_id}/runs"
    reply: dict[str, Any] = api.json("POST", path, {"confirm": False})
    if reply["confirmation_required"]:
        say(f"  the service says: {reply['message']}; going ahead")
        reply = api.json("POST", path, {"confirm": True})
    if not (reply["started"] or reply["already_active"]):
        raise DemoError(f"pre-labeling did not start: {reply['message']}")
    return reply


def progress_line(run: dict[str, Any], width: int = 30) -> str:
    total = int(run["total"])
    done = int(run["labeled"]) + int(run["failed"]) + int(run["skipped_quota"])
    fraction = min(1.0, done / total) if total else 1.0
    filled = round(fraction * width)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}% {done}/{total}"
        f"  {run['status']}"
    )


def watch_run(api: Api, project_id: str, out: TextIO, timeout_s: float) -> dict[str, Any]:
    """Follow the run's progress until it ends."""
    return follow(
        api,
        f"/projects/{project_id}/runs/current",
        lambda run: run["status"] not in ACTIVE,
        progress_line,
        out,
        timeout_s,
    )


def follow(
    api: Api,
    path: str,
    ended: Callable[[dict[str, Any]], bool],
    line: Callable[[dict[str, Any]], str],
    out: TextIO,
    timeout_s: float,
    query: dict[str, str] | None = None,
    poll_s: float = 0.25,
) -> dict[str, Any]:
    """Poll `path` until `ended` says so, drawing its progress `line`: one line redrawn on a
    terminal, one line per change elsewhere."""
    tty = out.isatty()
    last = ""
    deadline = time.monotonic() + timeout_s
    while True:
        body: dict[str, Any] = api.json("GET", path, query=query)
        text = line(body)
        if text != last:
            out.write(f"\r{text}" if tty else f"{text}\n")
            out.flush()
            last = text
        if ended(body):
            if tty:
                out.write("\n")
            return body
        if time.monotonic() > deadline:
            raise DemoError(f"{path} still not done after {timeout_s:.0f}s: {text.strip()}")
        time.sleep(poll_s)


def job_line(job: dict[str, Any]) -> str:
    p = job["progress"]
    total = f" of {p['total']}" if p["total"] is not None else ""
    return f"  {job['kind']} job: {p['done']}{total} {p['unit']}  {job['status']}"


def connect_photos(
    api: Api, project_id: str, bucket: str, out: TextIO, timeout_s: float
) -> dict[str, Any]:
    """Connect the prefix and follow the import job until the dataset is READY."""
    started = api.json(
        "POST", f"/projects/{project_id}/datasets", {"bucket": bucket, "prefix": DATA_PREFIX}
    )
    dataset = follow(
        api,
        f"/projects/{project_id}/datasets/{started['dataset_id']}",
        lambda d: d["status"] not in ("IMPORTING", "REMOVING"),
        lambda d: f"  importing: {d['task_count']} tasks  {d['status']}",
        out,
        timeout_s,
    )
    if dataset["status"] != "READY":
        raise DemoError(f"the import failed: {dataset['failure']}")
    return dataset


def move_all_to_waiting(api: Api, project_id: str, out: TextIO, timeout_s: float) -> int:
    job = api.json(
        "POST",
        f"/projects/{project_id}/tasks/move",
        {"from": "BACKLOG", "to": "WAITING", "all": True},
    )
    ended = follow(
        api,
        f"/projects/{project_id}/jobs/{job['job_id']}",
        lambda j: j["status"] != "RUNNING",
        job_line,
        out,
        timeout_s,
    )
    if ended["status"] != "SUCCEEDED":
        raise DemoError(f"moving the tasks failed: {ended['error']}")
    return int(ended["result"]["moved"])


def download_export(api: Api, project_id: str, fmt: str, timeout_s: float = 300.0) -> bytes:
    """Start the export job, wait for its file, and download it from the presigned link."""
    path = f"/projects/{project_id}/export"
    job = api.json("GET", path, query={"format": fmt})
    deadline = time.monotonic() + timeout_s
    while True:
        reply = api.call("GET", path, params={"format": fmt, "job_id": job["job_id"]})
        if reply.status_code == 200:
            break
        if time.monotonic() > deadline:
            raise DemoError(f"the {fmt} export is still being written after {timeout_s:.0f}s")
        time.sleep(0.25)
    download = requests.get(reply.json()["url"], timeout=120)
    if download.status_code != 200:
        raise DemoError(f"downloading the {fmt} export: HTTP {download.status_code}")
    return download.content


def _preview_names(tasks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    seen: set[str] = set()
    for task in tasks:
        key = str(task["image_key"])
        stem = key[len(DATA_PREFIX) :] if key.startswith(DATA_PREFIX) else key.rsplit("/", 1)[-1]
        name = stem.rsplit(".", 1)[0].replace("/", "_")
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        yield task, f"{unique}.jpg"


def write_previews(
    api: Api, project_id: str, tasks: list[dict[str, Any]], folder: Path
) -> list[dict[str, Any]]:
    """One preview per task: the photo from S3, the labels from the task's API detail."""
    s3 = boto3.client("s3")
    records: list[dict[str, Any]] = []
    for task, name in _preview_names(tasks):
        detail: dict[str, Any] = api.json("GET", f"/projects/{project_id}/tasks/{task['task_id']}")
        body = s3.get_object(Bucket=detail["bucket"], Key=detail["image_key"])["Body"].read()
        target = folder / name
        try:
            write_preview(body, detail["labels"], target)
            preview: str | None = str(target)
        except OSError:  # not an image at all: its task is FAILED, nothing to draw
            preview = None
        records.append(
            {
                "task_id": detail["task_id"],
                "image_key": detail["image_key"],
                "image_width": detail["image_width"],
                "image_height": detail["image_height"],
                "prelabel_state": detail["prelabel_state"],
                "prelabel_reason": detail["prelabel_reason"],
                "preview": preview,
                "labels": detail["labels"],
            }
        )
    return records


ARCHIVE_FORMATS = ("yolo", "yolo_flat", "voc", "labelstudio")


def write_exports(api: Api, project_id: str, out: Path) -> dict[str, str]:
    """Every format the API offers, as a user downloads them, unpacked and with the images from
    S3 put where each layout wants them (each image fetched once), so each folder opens as it
    is in its tools."""
    fetch = s3_fetcher()
    cache: dict[tuple[str, str], bytes] = {}

    def cached(bucket: str, key: str) -> bytes:
        if (bucket, key) not in cache:
            cache[bucket, key] = fetch(bucket, key)
        return cache[bucket, key]

    files: dict[str, str] = {}
    (out / "coco.json").write_bytes(download_export(api, project_id, "coco"))
    place_images(out / "coco_images", coco_placements(out / "coco.json"), cached)
    files["coco"] = str(out / "coco.json")
    files["coco_images"] = str(out / "coco_images")
    for fmt in ARCHIVE_FORMATS:
        content = download_export(api, project_id, fmt)
        archive = out / f"{fmt}.zip"
        archive.write_bytes(content)
        folder = out / fmt
        unpack(content, folder)
        place_images(folder, manifest_placements(folder), cached)
        files[fmt] = str(archive)
        files[f"{fmt}_folder"] = str(folder)
    return files


def check_exports(out: Path) -> dict[str, dict[str, Any]]:
    """What pycocotools, supervision and label-studio-sdk read from the exports just written."""
    results = read_with_libraries(out)
    (out / "export_check.json").write_text(json.dumps(results, indent=2))
    return results


def prepare_out(out: Path) -> None:
    """Only what the demo writes is replaced; anything else a user keeps in out/ stays."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("previews", "coco_images", *ARCHIVE_FORMATS):
        shutil.rmtree(out / name, ignore_errors=True)
    zips = tuple(f"{fmt}.zip" for fmt in ARCHIVE_FORMATS)
    for name in ("coco.json", *zips, "export_check.json", "summary.json", "stack.log"):
        (out / name).unlink(missing_ok=True)


# The whole demo


@dataclass
class Options:
    out: Path = Path("out")
    coco_dir: Path | None = COCO_SAMPLE
    coco_limit: int | None = None
    limit: int | None = None
    threshold: float = DEFAULT_THRESHOLD
    port: int = 0
    batch_size: int = 8
    run_timeout_s: float = 240.0


def run_demo(options: Options, stdout: TextIO | None = None) -> dict[str, Any]:
    """The whole demo; returns what `summary.json` holds. Steps go to `stdout` (the console)
    while everything the stack prints goes to `<out>/stack.log`."""
    console = stdout or sys.stdout

    def say(text: str) -> None:
        print(text, file=console, flush=True)

    started = time.monotonic()
    out = options.out.resolve()
    prepare_out(out)
    log_path = out / "stack.log"
    with (
        log_path.open("w") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        # The functions' JSON logs and metrics, moto's and the gateway's messages go to the log;
        # the console keeps the steps and the progress bar.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        say(f"Logs of the stack: {log_path}")
        return _run(options, out, started, say, console)


@dataclass
class _Going:
    """What Ctrl-C needs to know: the run to stop, when one is going."""

    api: Api | None = None
    project_id: str | None = None
    running: bool = False


@dataclass(frozen=True)
class _Ran:
    final: dict[str, Any]
    limit_before: dict[str, Any]
    limit_after: dict[str, Any]
    seconds: float


def _run(
    options: Options,
    out: Path,
    started: float,
    say: Callable[[str], None],
    stdout: TextIO,
) -> dict[str, Any]:
    stack = LocalStack(batch_size=options.batch_size)
    gateway: LocalGateway | None = None
    going = _Going()
    try:
        say("Starting the local stack (DynamoDB Local, moto, Step Functions, detector) ...")
        stack.start()
        key = load_or_create_key()
        static = ROOT / "web"
        gateway = LocalGateway(
            GatewayConfig(JwtVerifier.for_key(key), static_dir=static if static.is_dir() else None),
            port=options.port,
        ).start()
        stack_s = time.monotonic() - started
        say(f"  ready in {stack_s:.1f}s; API at {gateway.url}/api")

        provision_demo_org(ORG_ID, options.limit)
        token = issue_token(key, org_id=ORG_ID, sub="demo-user", ttl=3600)
        api = going.api = Api(f"{gateway.url}/api", token)
        say(f"Organization {ORG_ID} on TEAM_PRO; token for demo-user signed with the local key")

        project_id = going.project_id = _project_with_photos(
            api, stack.env["DATA_BUCKET"], options, say, stdout
        )
        _map_classes(api, project_id, options.threshold, say)
        ran = _prelabel(api, project_id, going, options.run_timeout_s, say, stdout)
        summary = {
            "api": f"{gateway.url}/api",
            **_write_out(api, project_id, out, ran, say),
            "timings_s": {
                "stack_start": round(stack_s, 1),
                "run": round(ran.seconds, 1),
                "total": round(time.monotonic() - started, 1),
            },
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        refused = [name for name, result in summary["export_check"].items() if "error" in result]
        if refused:
            raise DemoError(f"exports that did not open: {', '.join(refused)}")
        return summary
    except KeyboardInterrupt:
        if going.api is not None and going.project_id is not None and going.running:
            say("\nInterrupted: stopping the run ...")
            with contextlib.suppress(DemoError, requests.RequestException):
                going.api.call("POST", f"/projects/{going.project_id}/runs/stop")
        raise
    finally:
        if gateway is not None:
            gateway.stop()
        stack.stop()
        say(f"Local stack stopped ({time.monotonic() - started:.1f}s in all)")


def _project_with_photos(
    api: Api, bucket: str, options: Options, say: Callable[[str], None], stdout: TextIO
) -> str:
    """The project, its photos connected as a dataset (an import job) and moved to WAITING."""
    project = api.json(
        "POST", "/projects", {"name": "Demo: street and animals", "label_config": LABEL_CONFIG}
    )
    project_id = str(project["project_id"])
    say(f"Project {project_id}: Vehicle, Person, Animal (bbox), Road (polygon)")

    photos = demo_photos(options.coco_dir, options.coco_limit)
    upload_photos(photos, bucket, DATA_PREFIX)
    say(f"Connecting s3://{bucket}/{DATA_PREFIX} ({len(photos)} photos): an import job")
    dataset = connect_photos(api, project_id, bucket, stdout, options.run_timeout_s)
    skipped = dataset["report"]["objects"] - dataset["report"]["images"]
    say(f"  dataset READY: {dataset['task_count']} tasks in BACKLOG, {skipped} files skipped")
    say("Moving all BACKLOG tasks to WAITING: a job")
    moved = move_all_to_waiting(api, project_id, stdout, options.run_timeout_s)
    say(f"  moved {moved} tasks to WAITING")
    return project_id


def _map_classes(api: Api, project_id: str, threshold: float, say: Callable[[str], None]) -> None:
    mapping = api.json("PUT", f"/projects/{project_id}/mapping", mapping_body(threshold))
    say(
        f"Mapped {len(mapping['rows'])} detector classes "
        f"(threshold {mapping['default_threshold']}):"
    )
    for entry, classes in CLASS_MAP.items():
        say(f"  {', '.join(classes)} -> {entry.capitalize()}")


def _prelabel(
    api: Api,
    project_id: str,
    going: _Going,
    timeout_s: float,
    say: Callable[[str], None],
    stdout: TextIO,
) -> _Ran:
    """Start pre-labeling, follow it to its end, and say what it did."""
    limit_before = api.json("GET", "/limit")
    say(f"AI assistance left this month: {limit_before['remaining']}")
    run_started = time.monotonic()
    reply = start_run(api, project_id, say)
    going.running = True
    say(f"Pre-labeling {reply['will_label']} of {reply['eligible']} eligible images ...")
    final = watch_run(api, project_id, stdout, timeout_s)
    going.running = False
    run_s = time.monotonic() - run_started
    limit_after = api.json("GET", "/limit")

    say(f"Run {final['status']} in {run_s:.1f}s")
    if final.get("message"):
        say(f"  {final['message']}")
    say(f"  pre-labeled:        {final['labeled']}")
    say(f"  failed:             {final['failed']}")
    say(f"  skipped (no limit): {final['skipped_quota']}")
    say(f"  remaining limit:    {limit_after['remaining']} of {limit_after['monthly_limit']}")
    return _Ran(final, limit_before, limit_after, run_s)


def _write_out(
    api: Api, project_id: str, out: Path, ran: _Ran, say: Callable[[str], None]
) -> dict[str, Any]:
    """Previews, exports and what the libraries read from them; the summary of it all."""
    tasks = all_tasks(api, project_id)
    records = write_previews(api, project_id, tasks, out / "previews")
    exports = write_exports(api, project_id, out)
    export_check = check_exports(out)
    label_total = sum(len(r["labels"]) for r in records)
    per_entry: dict[str, int] = {}
    for record in records:
        for label in record["labels"]:
            per_entry[label["entry_name"]] = per_entry.get(label["entry_name"], 0) + 1
    entries = ", ".join(f"{n} {name}" for name, n in sorted(per_entry.items()))
    say(f"  labels:             {label_total} ({entries or 'none'})")
    _say_written(out, len(records), export_check, say)
    return {
        "org_id": ORG_ID,
        "project_id": project_id,
        "run": ran.final,
        "limit_before": ran.limit_before,
        "limit_after": ran.limit_after,
        "labels": label_total,
        "labels_per_entry": per_entry,
        "tasks": records,
        "exports": exports,
        "export_check": export_check,
    }


def _say_written(
    out: Path, previews: int, export_check: dict[str, dict[str, Any]], say: Callable[[str], None]
) -> None:
    say(f"Wrote {out}/")
    say(f"  previews/      {previews} images with their boxes")
    say("  coco.json, coco_images/   COCO (score and source on each annotation)")
    say("  yolo.zip, yolo/           YOLO, Ultralytics layout (data.yaml)")
    say("  yolo_flat.zip, yolo_flat/ YOLO in one folder")
    say("  voc.zip, voc/             Pascal VOC (CVAT's Pascal VOC 1.1)")
    say("  labelstudio.zip, labelstudio/  Label Studio tasks + labeling config")
    say("  (each export written by a job, downloaded from its link; images copied into")
    say("   each layout; see docs/exports.md)")
    say("  summary.json   the run, the limit and every task's labels")
    say("  stack.log      what the functions, moto and the gateway printed")
    say("What the libraries read from the exports (export_check.json):")
    for line in format_results(export_check):
        say(line)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # a launcher's SIGTERM stops the demo as Ctrl-C does


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m prelabel_local.demo",
        description="Pre-label real photos on the local stack and write previews and exports.",
    )
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (out/)")
    parser.add_argument(
        "--coco-dir",
        type=Path,
        default=COCO_SAMPLE,
        help="more photos (*.jpg) added when the folder exists (default: %(default)s)",
    )
    parser.add_argument("--no-coco", action="store_true", help="only scikit-image's photos")
    parser.add_argument("--coco-limit", type=int, default=None, help="at most N photos from it")
    parser.add_argument(
        "--limit", type=int, default=None, help="the organization's remaining AI assistance"
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--port", type=int, default=0, help="gateway port (0: a free one)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per LabelBatch")
    args = parser.parse_args(argv)
    return Options(
        out=args.out,
        coco_dir=None if args.no_coco else args.coco_dir,
        coco_limit=args.coco_limit,
        limit=args.limit,
        threshold=args.threshold,
        port=args.port,
        batch_size=args.batch_size,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # Ctrl-C even when started with SIGINT ignored (a background job); SIGTERM the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        summary = run_demo(options)
    except KeyboardInterrupt:
        print("Demo interrupted; everything stopped.", file=sys.stderr)
        return 130
    except DemoError as exc:
        print(f"Demo failed: {exc} (see {options.out}/stack.log)", file=sys.stderr)
        return 1
    return 0 if summary["run"]["status"] == "COMPLETED" else 1


if __name__ == "__main__":
    code = main()
    if code == 130:
        # Everything is stopped; an inference interrupted mid-batch can leave a native thread
        # behind whose C++ destructor aborts at interpreter exit. Leave without running those.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
