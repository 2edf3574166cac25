"""API latency: median in-process handler time of the AI-assistant view and of a mapping update
against DynamoDB Local, and the API function's cold-start import time (python -X importtime).

Run: .venv/bin/python benchmarks/api_latency.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import boto3
from _common import median_ms
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[1]
IMPORT_TARGET_MS = 300.0

os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
)


def import_time_ms(module: str, cwd: Path, runs: int = 7, *, bytecode: bool = True) -> float:
    """Cumulative import time of `module` in fresh interpreters (min of `runs`: least noise),
    with the environment template.yaml gives every function. With `bytecode`, compiled modules
    are cached (in a private folder) by a first run that does not count, as installed packages
    are; without, every module is compiled from source (an empty cache folder hides the
    installed bytecode), as on Lambda from a layer that ships none."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYDANTIC_DISABLE_PLUGINS": "__all__"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
        if not bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        for attempt in range(runs + bytecode):
            out = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import {module}"],
                cwd=cwd,
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stderr
            if bytecode and attempt == 0:
                continue
            for line in out.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[2].strip() == module:
                    best = min(best, int(parts[1].strip()) / 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from prelabel_local import dynamodb_local

    # Imports first, while no local server competes for the CPU.
    api_import = import_time_ms("app", ROOT / "functions" / "api")
    api_source = import_time_ms("app", ROOT / "functions" / "api", runs=3, bytecode=False)
    boto3_import = import_time_ms("boto3", ROOT)
    ddb = dynamodb_local.start(ROOT)
    moto_port = dynamodb_local.free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    os.environ["AWS_ENDPOINT_URL_S3"] = f"http://127.0.0.1:{moto_port}"
    try:
        view_ms, put_ms, baseline_ms = latencies(ddb.endpoint, args.requests)
    finally:
        moto.stop()
        ddb.stop()

    print(f"requests per figure:                      {args.requests}")
    print(f"baseline: one GetItem through pynamodb     {baseline_ms:7.2f} ms (median)")
    print(
        f"AI-assistant view (GET .../assistant)      {view_ms:7.2f} ms (median, "
        f"{view_ms / baseline_ms:.1f}x one GetItem)"
    )
    print(
        f"mapping update (PUT .../mapping)           {put_ms:7.2f} ms (median, "
        f"{put_ms / baseline_ms:.1f}x one GetItem)"
    )
    verdict = "met" if api_import < IMPORT_TARGET_MS else "NOT met"
    print(
        f"cold-start imports of functions/api/app.py {api_import:7.1f} ms "
        f"(target < {IMPORT_TARGET_MS:.0f} ms: {verdict})"
    )
    print(
        f"  the same with no bytecode at all         {api_source:7.1f} ms "
        f"({api_source / api_import:.1f}x: a layer without bytecode paid this; "
        "layers/prelabel/Makefile now ships it)"
    )
    print(
        f"baseline: import boto3 alone               {boto3_import:7.1f} ms "
        f"(api imports = {api_import / boto3_import:.2f}x boto3)"
    )


def bench_container(ddb_endpoint: str) -> Any:
    """Fresh tables made as template.yaml defines them, and the organization `bench`."""
    from prelabel.container import Container, use_container
    from prelabel.settings import Settings
    from prelabel_local.harness import seed_organization
    from prelabel_local.template_resources import TABLE_SETTING, create_tables, load_template

    suffix = uuid.uuid4().hex[:6]
    names = {logical: f"{logical}-{suffix}" for logical in TABLE_SETTING}
    create_tables(
        boto3.client("dynamodb", endpoint_url=ddb_endpoint),
        load_template(ROOT / "template.yaml"),
        names,
    )
    settings = Settings(
        **{TABLE_SETTING[logical]: name for logical, name in names.items()},
        data_bucket="bench-data",
        # No state machine here: the figures are the views, not runs or jobs.
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:none",
        jobs_state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:jobs",
        models_bucket="bench-models",
        model_validation_state_machine_arn=(
            "arn:aws:states:us-east-1:123456789012:stateMachine:model-validation"
        ),
        dynamodb_endpoint=ddb_endpoint,
    )
    container = Container(settings)
    use_container(container)
    seed_organization(container, "bench", name="B")
    return container


def latencies(ddb_endpoint: str, requests: int) -> tuple[float, float, float]:
    """Median ms of the assistant view, of a mapping update, and of one GetItem (baseline)."""
    from prelabel_local.http_events import call_api as call

    container = bench_container(ddb_endpoint)
    config = [
        {"id": "veh", "name": "Vehicle", "geometry": "bbox"},
        {"id": "per", "name": "Person", "geometry": "bbox"},
    ]
    pid = call("POST", "/projects", "bench", {"name": "Bench", "label_config": config}).body[
        "project_id"
    ]
    mapping = {
        "rows": [
            {"detector_class": c, "entry_id": "veh"} for c in ("car", "truck", "bus", "motorcycle")
        ]
        + [{"detector_class": "person", "entry_id": "per", "min_confidence": 0.6}]
    }
    reply = call("PUT", f"/projects/{pid}/mapping", "bench", mapping)
    assert reply.status == 200, reply.body
    assert call("GET", f"/projects/{pid}/assistant", "bench").status == 200

    view_ms = median_ms(lambda: call("GET", f"/projects/{pid}/assistant", "bench"), requests)
    put_ms = median_ms(lambda: call("PUT", f"/projects/{pid}/mapping", "bench", mapping), requests)
    baseline_ms = median_ms(lambda: container.orgs.get("bench"), requests)
    return view_ms, put_ms, baseline_ms


if __name__ == "__main__":
    main()
