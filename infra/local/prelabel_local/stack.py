"""The embedded local stack: every piece of the product on this machine, no account, no Docker.

    python -m prelabel_local.stack [--port 8080] [--org demo-org] [--photos DIR] [--persist DIR]

Ready to use: the organization (`demo-org`, TEAM_PRO) has a project whose photos lie under
`<org>/photos/` of the data bucket, connected as a dataset, moved to WAITING and mapped; the
page's URL with a signed-in token, the API base and the S3 endpoint are printed. Where it is
(endpoints, tables, bucket) goes to `.local/stack.json` for the admin and export CLIs.

DynamoDB Local (tables from template.yaml), moto in server mode (S3, Step Functions executing the
real ASL, Lambda invocations running the real handler files), the local detector endpoint, and
the gateway that verifies JWTs and serves the web page. Every function reads the same
environment, as each deployed Lambda reads its own. With `--persist DIR` the tables live in
DIR/dynamodb and the S3 objects are saved to DIR/s3 when the stack stops, so a restart on the
same folder finds everything again.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from prelabel.container import Container
from prelabel.settings import Settings
from prelabel_local import dynamodb_local, s3_snapshot
from prelabel_local.demo_photos import COCO_SAMPLE, Photo, demo_photos
from prelabel_local.detector_endpoint import (
    LOCAL_IMAGES_PER_SECOND,
    LOCAL_WORKER_SECONDS_PER_IMAGE,
    register_endpoint,
)
from prelabel_local.gateway import GatewayConfig, LocalGateway
from prelabel_local.jwt_keys import JwtVerifier, default_key_dir, issue_token, load_or_create_key
from prelabel_local.lambdas import LambdaRunner
from prelabel_local.ready import Ready, folder_photos, make_ready
from prelabel_local.state import (
    LOCAL_CREDENTIALS,
    StackState,
    default_state_path,
    remove_state,
    write_state,
)
from prelabel_local.template_resources import (
    create_tables,
    load_template,
    table_definitions,
    table_env_var,
)
from prelabel_local.workflow_resources import (
    JOBS_MACHINE,
    MODEL_VALIDATION_MACHINE,
    create_state_machine,
    enable_step_functions_execution,
    register_functions,
)

ROOT = Path(__file__).resolve().parents[3]
DETECTOR_ENDPOINT = "prelabel-detector"


def function_env(
    tables: dict[str, str],
    *,
    bucket: str,
    dynamodb_endpoint: str,
    moto_endpoint: str,
    detector_url: str,
    state_machine_arn: str,
    batch_size: int = 32,
    max_concurrency: int = 8,
    dataset_buckets: tuple[str, ...] = (),
    jobs_state_machine_arn: str = "",
    models_bucket: str = "",
    model_validation_state_machine_arn: str = "",
    job_max_concurrency: int = 2,
) -> dict[str, str]:
    """The environment template.yaml gives the functions, with local endpoints added.

    `max_concurrency` bounds each run's concurrency, which Prepare computes from the local
    endpoint as moto's SageMaker describes it (prelabel_local.detector_endpoint)."""
    env = {table_env_var(logical): name for logical, name in tables.items()}
    if dataset_buckets:
        # As the template's DatasetBuckets: the data bucket listed too, so the organization's
        # own folder stays readable.
        env["DATASET_BUCKETS"] = ",".join(dict.fromkeys((bucket, *dataset_buckets)))
    env.update(
        DATA_BUCKET=bucket,
        STATE_MACHINE_ARN=state_machine_arn,
        JOBS_STATE_MACHINE_ARN=jobs_state_machine_arn,
        MODEL_VALIDATION_STATE_MACHINE_ARN=model_validation_state_machine_arn,
        MODELS_BUCKET=models_bucket,
        DETECTOR_ENDPOINT_NAME=DETECTOR_ENDPOINT,
        # One local server serves the built-in and, by TargetModel, the uploaded models.
        MODELS_ENDPOINT_NAME=DETECTOR_ENDPOINT,
        BATCH_SIZE=str(batch_size),
        MAX_CONCURRENCY=str(max_concurrency),
        DETECTOR_IMAGES_PER_SECOND=str(LOCAL_IMAGES_PER_SECOND),
        WORKER_SECONDS_PER_BATCH=str(batch_size * LOCAL_WORKER_SECONDS_PER_IMAGE),
        JOB_MAX_CONCURRENCY=str(job_max_concurrency),
        AWS_ENDPOINT_URL_DYNAMODB=dynamodb_endpoint,
        AWS_ENDPOINT_URL_S3=moto_endpoint,
        AWS_ENDPOINT_URL_SFN=moto_endpoint,
        AWS_ENDPOINT_URL_LAMBDA=moto_endpoint,
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=detector_url,
        # The control plane (DescribeEndpoint, ListTags) is moto's.
        AWS_ENDPOINT_URL_SAGEMAKER=moto_endpoint,
        POWERTOOLS_METRICS_NAMESPACE="PrelabelLocal",
    )
    return env


def local_credentials() -> None:
    """Local endpoints take any credentials; never let the stack reach a real account."""
    os.environ.update(LOCAL_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)


def start_detector(weights_dir: Path | None = None, models: Any = None) -> Any:
    """The local endpoint with the registry's SSD model, or YOLOX-Nano from `weights_dir`; with
    `models` (a ModelSource: the models bucket's artifacts/ prefix) it also serves uploaded
    models by TargetModel, as the multi-model endpoint does (`--models-s3`)."""
    from prelabel_detector.descriptor import Descriptor, bundled
    from prelabel_detector.handler import load_model
    from prelabel_detector.server import DetectorServer, model_host, serve_in_thread

    if weights_dir is not None and (weights_dir / "yolox_nano.onnx").is_file():
        model = load_model(Descriptor.load(bundled("yolox_nano.json"), weights_dir))
    else:
        model = load_model(Descriptor.load(bundled("ssd_mobilenet_v2_coco.json")))
    host = model_host(models, threads=1) if models is not None else None
    address = ("127.0.0.1", dynamodb_local.free_port())
    server = DetectorServer(address, model, DETECTOR_ENDPOINT, host)
    serve_in_thread(server)
    return server


def artifacts_source(s3: Any, bucket: str) -> Any:
    """Uploaded models' artifacts, read from the models bucket as SageMaker reads them."""
    from prelabel.domain.detector_models import ARTIFACTS_PREFIX
    from prelabel_detector.sources import S3Source

    return S3Source(s3, bucket, ARTIFACTS_PREFIX)


# The page posts model files straight to the models bucket from its own origin.
UPLOAD_CORS: Any = {
    "CORSRules": [
        {"AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"],
         "MaxAgeSeconds": 600}
    ]
}  # fmt: skip


def _save_objects(s3: Any, buckets: tuple[str, ...], folder: Path) -> None:
    try:
        s3_snapshot.save_buckets(s3, buckets, folder)
    except Exception as exc:  # the other parts must still stop; the user must still hear of it
        print(f"could not save the S3 objects to {folder}: {exc!r}", file=sys.__stderr__)
        raise


@dataclass
class LocalStack:
    root: Path = ROOT
    bucket: str = "prelabel-local-data"
    models_bucket: str = "prelabel-local-models"
    batch_size: int = 32
    max_concurrency: int = 8
    # Slices of a job at once: the stack runs every Lambda in this one process on 2 cores.
    job_max_concurrency: int = 2
    weights_dir: Path | None = None
    # The local endpoint as the control plane shows it: instances, one instance's images/s.
    detector_instances: int = 1
    detector_images_per_second: float = LOCAL_IMAGES_PER_SECOND
    # Tables in <persist_dir>/dynamodb, S3 objects saved to <persist_dir>/s3 at stop.
    persist_dir: Path | None = None
    # moto's port (S3, Step Functions, Lambda); 0: a free one.
    s3_port: int = 0
    # Buckets besides the data bucket that operators may grant (the template's DatasetBuckets).
    dataset_buckets: tuple[str, ...] = ()
    # The Lambda runner the stack installs (benchmarks pass one that also times invocations).
    runner: LambdaRunner = field(default_factory=LambdaRunner)
    env: dict[str, str] = field(default_factory=dict)
    s3_endpoint: str = ""
    dynamodb_endpoint: str = ""
    _stoppers: list[Any] = field(default_factory=list)

    def start(self) -> LocalStack:
        # The stack points this process's AWS clients at itself; its stop points them back, so
        # a stack started inside a longer process (a test run) leaves the rest as it found it.
        before = dict(os.environ)
        self._stoppers.append(lambda: _restore_environ(before))
        local_credentials()
        template = load_template(self.root / "template.yaml")
        persist = self.persist_dir.resolve() if self.persist_dir else None
        ddb = dynamodb_local.start(self.root, db_path=persist / "dynamodb" if persist else None)
        self._stoppers.append(ddb.stop)
        port = self.s3_port or dynamodb_local.free_port()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto.start()
        self._stoppers.append(moto.stop)
        moto_endpoint = f"http://127.0.0.1:{port}"
        os.environ["MOTO_PORT"] = str(port)  # the Step Functions interpreter calls back here
        enable_step_functions_execution(moto_endpoint)
        tables = self._make_tables(template, ddb.endpoint)
        s3 = self._make_buckets(moto_endpoint, persist)
        self.s3_endpoint = moto_endpoint
        self.dynamodb_endpoint = ddb.endpoint
        detector = start_detector(self.weights_dir, artifacts_source(s3, self.models_bucket))
        self._stoppers.append(detector.shutdown)
        register_endpoint(
            boto3.client("sagemaker", endpoint_url=moto_endpoint),
            DETECTOR_ENDPOINT,
            instances=self.detector_instances,
            images_per_second=self.detector_images_per_second,
        )
        register_functions(self.root, template, self.runner)
        self.runner.install()
        self._stoppers.append(self.runner.uninstall)
        sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint)
        arn = create_state_machine(sfn, self.root, template, "prelabel-local")
        jobs_arn = create_state_machine(
            sfn, self.root, template, "prelabel-local-jobs", JOBS_MACHINE
        )
        validation_arn = create_state_machine(
            sfn, self.root, template, "prelabel-local-model-validation", MODEL_VALIDATION_MACHINE
        )
        self.env = function_env(
            tables,
            bucket=self.bucket,
            dynamodb_endpoint=ddb.endpoint,
            moto_endpoint=moto_endpoint,
            detector_url=detector.url,
            state_machine_arn=arn,
            jobs_state_machine_arn=jobs_arn,
            models_bucket=self.models_bucket,
            model_validation_state_machine_arn=validation_arn,
            batch_size=self.batch_size,
            max_concurrency=self.max_concurrency,
            dataset_buckets=self.dataset_buckets,
            job_max_concurrency=self.job_max_concurrency,
        )
        os.environ.update(self.env)
        return self

    def _make_tables(self, template: dict[str, Any], endpoint: str) -> dict[str, str]:
        """The template's tables (logical name -> table name), made where missing."""
        tables = {logical: f"prelabel-{logical}" for logical in table_definitions(template)}
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint)
        existing = set(dynamodb.list_tables()["TableNames"])  # a persisted stack has them
        missing = {logical: name for logical, name in tables.items() if name not in existing}
        create_tables(dynamodb, template, missing)
        return tables

    def _make_buckets(self, moto_endpoint: str, persist: Path | None) -> Any:
        """The buckets, with a persisted stack's objects put back; returns the S3 client."""
        s3 = boto3.client("s3", endpoint_url=moto_endpoint)
        buckets = (self.bucket, self.models_bucket, *self.dataset_buckets)
        for name in buckets:
            s3.create_bucket(Bucket=name)
        s3.put_bucket_cors(Bucket=self.models_bucket, CORSConfiguration=UPLOAD_CORS)
        if persist:
            s3_snapshot.restore_buckets(s3, buckets, persist / "s3")
            # Runs after the later parts stop and before moto does.
            self._stoppers.append(lambda: _save_objects(s3, buckets, persist / "s3"))
        return s3

    @property
    def settings(self) -> Settings:
        return Settings.from_env(os.environ)

    def stop(self) -> None:
        while self._stoppers:
            stop = self._stoppers.pop()
            with contextlib.suppress(Exception):  # stopping the rest matters more
                stop()


def _restore_environ(before: dict[str, str]) -> None:
    for key in set(os.environ) - set(before):
        del os.environ[key]
    os.environ.update(before)


# The page's token lasts a working day; `python -m prelabel_local.token` prints a fresh one.
PAGE_TOKEN_TTL_S = 12 * 3600
DEMO_USER = "demo-user"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m prelabel_local.stack",
        description="Run the whole product locally, ready to use, until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=8080, help="the page and API (0: a free one)")
    parser.add_argument("--org", default="demo-org", help="the organization made ready")
    parser.add_argument(
        "--photos",
        type=Path,
        default=None,
        help="a folder of your images for the project (default: sample photos)",
    )
    parser.add_argument(
        "--persist",
        type=Path,
        default=None,
        help="keep tables and S3 objects in this folder across restarts",
    )
    parser.add_argument("--s3-port", type=int, default=0, help="moto's S3 port (0: a free one)")
    parser.add_argument(
        "--dataset-bucket",
        action="append",
        default=[],
        help="another bucket operators may grant (repeatable)",
    )
    parser.add_argument("--static", type=Path, default=ROOT / "web", help=argparse.SUPPRESS)
    parser.add_argument(
        "--log",
        type=Path,
        default=None,
        help=f"what the functions and moto print (default: {default_key_dir()}/stack.log)",
    )
    return parser.parse_args(argv)


def _photos(folder: Path | None) -> list[Photo]:
    if folder is not None:
        found = list(folder_photos(folder))
        if not found:
            raise FileNotFoundError(f"--photos: no images in {folder}")
        return found
    return demo_photos(COCO_SAMPLE)


def ready_message(state: StackState, ready: Ready, token: str, state_path: Path) -> str:
    s3, where = state.s3_endpoint, f"s3://{state.data_bucket}/{ready.prefix}"
    keys = "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1"
    found = "seeded now" if ready.seeded else "kept from before"
    return "\n".join(
        [
            "Prelabel local stack ready (Ctrl-C stops everything)",
            f"  Page      {state.gateway_url}/#token={token}",
            f"  API base  {state.api_url}  (header Authorization: Bearer <token>)",
            f"  Token     {token}",
            f"            user {DEMO_USER} of {ready.org_id}, valid {PAGE_TOKEN_TTL_S // 3600} h;"
            f" another: .venv/bin/python -m prelabel_local.token --org {ready.org_id}",
            f"  Project   {ready.project_name} ({ready.project_id}): {ready.tasks} tasks, {found}",
            f"  S3        {s3}  photos under {where}",
            f"            any key works: {keys}",
            f"            aws --endpoint-url {s3} s3 cp DIR {where} --recursive",
            f"  DynamoDB  {state.dynamodb_endpoint}",
            f"  State     {state_path} (read by prelabel-admin --local and the export CLI)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = sys.stdout
    log_path = (args.log or default_key_dir() / "stack.log").resolve()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"Starting the local stack; its logs go to {log_path}", file=console, flush=True)
    with (
        log_path.open("a") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            return _serve(args, console)
        except KeyboardInterrupt:
            print("Stopped.", file=console, flush=True)
            return 130
        except (OSError, ValueError, RuntimeError) as exc:
            print(f"The local stack did not start: {exc} (see {log_path})", file=console)
            return 1


def _serve(args: argparse.Namespace, console: Any) -> int:
    photos = _photos(args.photos)
    stack = LocalStack(
        persist_dir=args.persist,
        s3_port=args.s3_port,
        dataset_buckets=tuple(args.dataset_bucket),
    )
    gateway: LocalGateway | None = None
    state_path = default_state_path()
    try:
        stack.start()
        ready = make_ready(Container(stack.settings), args.org, photos)
        key = load_or_create_key()
        gateway = LocalGateway(
            GatewayConfig(JwtVerifier.for_key(key), static_dir=args.static), port=args.port
        ).start()
        state = StackState(
            gateway_url=gateway.url,
            s3_endpoint=stack.s3_endpoint,
            dynamodb_endpoint=stack.dynamodb_endpoint,
            data_bucket=stack.bucket,
            env=stack.env,
            pid=os.getpid(),
            dataset_buckets=stack.dataset_buckets,
            org_id=args.org,
            persist_dir=str(args.persist.resolve()) if args.persist else None,
        )
        write_state(state, state_path)
        token = issue_token(key, org_id=args.org, sub=DEMO_USER, ttl=PAGE_TOKEN_TTL_S)
        print(ready_message(state, ready, token, state_path), file=console, flush=True)
        done = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: done.set())
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        done.wait()
        print("Stopping ...", file=console, flush=True)
        return 0
    finally:
        remove_state(state_path, os.getpid())
        if gateway is not None:
            gateway.stop()
        stack.stop()
        if args.persist:
            print(f"Tables and S3 objects kept in {args.persist}", file=console, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
