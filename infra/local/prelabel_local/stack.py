"""The embedded local stack: every piece of the product on this machine, no account, no Docker.

    python -m prelabel_local.stack [--port 8080]     # serve until Ctrl-C

DynamoDB Local (tables from template.yaml), moto in server mode (S3, Step Functions executing the
real ASL, Lambda invocations running the real handler files), the local detector endpoint, and
the gateway that verifies JWTs and serves the web page. Every function reads the same
environment, as each deployed Lambda reads its own.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from prelabel.settings import Settings
from prelabel_local import dynamodb_local
from prelabel_local.lambdas import LambdaRunner
from prelabel_local.template_resources import (
    create_tables,
    load_template,
    table_definitions,
    table_env_var,
)
from prelabel_local.workflow_resources import (
    JOBS_MACHINE,
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
    max_concurrency: int = 4,
    jobs_state_machine_arn: str = "",
) -> dict[str, str]:
    """The environment template.yaml gives the functions, with local endpoints added."""
    env = {table_env_var(logical): name for logical, name in tables.items()}
    env.update(
        DATA_BUCKET=bucket,
        STATE_MACHINE_ARN=state_machine_arn,
        JOBS_STATE_MACHINE_ARN=jobs_state_machine_arn,
        DETECTOR_ENDPOINT_NAME=DETECTOR_ENDPOINT,
        BATCH_SIZE=str(batch_size),
        MAX_CONCURRENCY=str(max_concurrency),
        AWS_ENDPOINT_URL_DYNAMODB=dynamodb_endpoint,
        AWS_ENDPOINT_URL_S3=moto_endpoint,
        AWS_ENDPOINT_URL_SFN=moto_endpoint,
        AWS_ENDPOINT_URL_LAMBDA=moto_endpoint,
        AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=detector_url,
        POWERTOOLS_METRICS_NAMESPACE="PrelabelLocal",
    )
    return env


def local_credentials() -> None:
    """Local endpoints take any credentials; never let the stack reach a real account."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_SESSION_TOKEN="local",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )
    os.environ.pop("AWS_PROFILE", None)


def start_detector(weights_dir: Path | None = None) -> Any:
    """The local endpoint with the registry's SSD model, or YOLOX-Nano from `weights_dir`."""
    from prelabel_detector.descriptor import Descriptor, bundled
    from prelabel_detector.handler import load_model
    from prelabel_detector.server import DetectorServer, serve_in_thread

    if weights_dir is not None and (weights_dir / "yolox_nano.onnx").is_file():
        model = load_model(Descriptor.load(bundled("yolox_nano.json"), weights_dir))
    else:
        model = load_model(Descriptor.load(bundled("ssd_mobilenet_v2_coco.json")))
    server = DetectorServer(("127.0.0.1", dynamodb_local.free_port()), model, DETECTOR_ENDPOINT)
    serve_in_thread(server)
    return server


@dataclass
class LocalStack:
    root: Path = ROOT
    bucket: str = "prelabel-local-data"
    batch_size: int = 32
    max_concurrency: int = 4
    weights_dir: Path | None = None
    # The Lambda runner the stack installs (benchmarks pass one that also times invocations).
    runner: LambdaRunner = field(default_factory=LambdaRunner)
    env: dict[str, str] = field(default_factory=dict)
    _stoppers: list[Any] = field(default_factory=list)

    def start(self) -> LocalStack:
        local_credentials()
        template = load_template(self.root / "template.yaml")
        ddb = dynamodb_local.start(self.root)
        self._stoppers.append(ddb.stop)
        port = dynamodb_local.free_port()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto.start()
        self._stoppers.append(moto.stop)
        moto_endpoint = f"http://127.0.0.1:{port}"
        os.environ["MOTO_PORT"] = str(port)  # the Step Functions interpreter calls back here
        enable_step_functions_execution(moto_endpoint)
        tables = {logical: f"prelabel-{logical}" for logical in table_definitions(template)}
        create_tables(boto3.client("dynamodb", endpoint_url=ddb.endpoint), template, tables)
        boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=self.bucket)
        detector = start_detector(self.weights_dir)
        self._stoppers.append(detector.shutdown)
        register_functions(self.root, template, self.runner)
        self.runner.install()
        self._stoppers.append(self.runner.uninstall)
        sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint)
        arn = create_state_machine(sfn, self.root, template, "prelabel-local")
        jobs_arn = create_state_machine(
            sfn, self.root, template, "prelabel-local-jobs", JOBS_MACHINE
        )
        self.env = function_env(
            tables,
            bucket=self.bucket,
            dynamodb_endpoint=ddb.endpoint,
            moto_endpoint=moto_endpoint,
            detector_url=detector.url,
            state_machine_arn=arn,
            jobs_state_machine_arn=jobs_arn,
            batch_size=self.batch_size,
            max_concurrency=self.max_concurrency,
        )
        os.environ.update(self.env)
        return self

    @property
    def settings(self) -> Settings:
        return Settings.from_env(os.environ)

    def stop(self) -> None:
        while self._stoppers:
            stop = self._stoppers.pop()
            with contextlib.suppress(Exception):  # stopping the rest matters more
                stop()


def main(argv: list[str] | None = None) -> int:
    from prelabel_local.gateway import GatewayConfig, LocalGateway
    from prelabel_local.jwt_keys import JwtVerifier, load_or_create_key

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--static", type=Path, default=ROOT / "web")
    args = parser.parse_args(argv)
    stack = LocalStack().start()
    key = load_or_create_key()
    gateway = LocalGateway(
        GatewayConfig(JwtVerifier.for_key(key), static_dir=args.static), port=args.port
    ).start()
    print(f"Prelabel local stack ready: {gateway.url}  (Ctrl-C stops everything)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    gateway.stop()
    stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
