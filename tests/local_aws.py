"""The local AWS for tests/integration and tests/e2e (a pytest plugin that tests/conftest.py
loads when a run goes beyond tests/unit): DynamoDB Local, moto server, the template's real
handlers behind moto's Lambda, the jobs state machine, and fresh tables made from template.yaml
for each test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from prelabel.container import Container, use_container
from prelabel.settings import Settings
from prelabel_local import dynamodb_local
from prelabel_local.lambdas import LambdaRunner
from prelabel_local.stack import local_credentials
from prelabel_local.template_resources import TABLE_SETTING, create_tables, load_template
from prelabel_local.workflow_resources import (
    JOBS_MACHINE,
    MODEL_VALIDATION_MACHINE,
    create_state_machine,
    enable_step_functions_execution,
    register_functions,
)

ROOT = Path(__file__).resolve().parents[1]

local_credentials()


def moto_env(endpoint: str) -> dict[str, str]:
    """What points this process at a moto server: S3, Step Functions (the API starts jobs
    there), and the port moto's Step Functions interpreter calls Lambda and S3 back on."""
    return {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_SFN": endpoint,
        "MOTO_PORT": endpoint.rsplit(":", 1)[1],
    }


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="session")
def ddb_endpoint() -> Iterator[str]:
    server = dynamodb_local.start(ROOT)
    yield server.endpoint
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = dynamodb_local.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(moto_env(endpoint))
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def lambda_runner(template: dict[str, Any]) -> Iterator[LambdaRunner]:
    """moto's Lambda invocations run the template's real handlers in this process."""
    runner = LambdaRunner()
    register_functions(ROOT, template, runner)
    runner.install()
    yield runner
    runner.uninstall()


@pytest.fixture(scope="session")
def jobs_state_machine_arn(
    moto_endpoint: str, template: dict[str, Any], lambda_runner: LambdaRunner
) -> str:
    """The jobs state machine (imports, moves, exports, ...), run by moto with the real ASL:
    every API test that connects a dataset or exports goes through it."""
    enable_step_functions_execution(moto_endpoint)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint)
    return create_state_machine(sfn, ROOT, template, "prelabel-local-jobs", JOBS_MACHINE)


@pytest.fixture(scope="session")
def model_validation_state_machine_arn(
    moto_endpoint: str, template: dict[str, Any], lambda_runner: LambdaRunner
) -> str:
    """The model validation job's state machine, run by moto with the real ASL: a submitted
    upload is validated by the real handler (the validator in a child process)."""
    enable_step_functions_execution(moto_endpoint)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint)
    return create_state_machine(
        sfn, ROOT, template, "prelabel-local-model-validation", MODEL_VALIDATION_MACHINE
    )


@pytest.fixture
def settings(
    ddb_endpoint: str,
    moto_endpoint: str,
    template: dict[str, Any],
    jobs_state_machine_arn: str,
    model_validation_state_machine_arn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Fresh tables for each test (DynamoDB Local in memory), made as template.yaml defines them.

    The session's moto is named again for the test: a worker (pytest-xdist) that ran a file
    starting a whole LocalStack of its own in between must not reach that one's moto."""
    for name, value in moto_env(moto_endpoint).items():
        monkeypatch.setenv(name, value)
    suffix = uuid.uuid4().hex[:8]
    names = {logical: f"{logical}-{suffix}" for logical in TABLE_SETTING}
    client = boto3.client("dynamodb", endpoint_url=ddb_endpoint)
    create_tables(client, template, names)
    bucket = f"data-{suffix}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=f"models-{suffix}")
    return Settings(
        **{TABLE_SETTING[logical]: name for logical, name in names.items()},
        data_bucket=bucket,
        models_bucket=f"models-{suffix}",
        model_validation_state_machine_arn=model_validation_state_machine_arn,
        dynamodb_endpoint=ddb_endpoint,
        # No pre-labeling state machine in these tests; a run they start would fail to find it.
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:not-deployed",
        jobs_state_machine_arn=jobs_state_machine_arn,
    )


@pytest.fixture
def ports(settings: Settings) -> Iterator[Container]:
    """The ports bound to the test's tables and bucket, installed as the API handler's container."""
    c = Container(settings)
    use_container(c)
    yield c
    use_container(None)
