"""The transformed template created as a stack in moto's CloudFormation, once per parameter set."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import moto
import pytest
import requests

from prelabel_local.sam_transform import ARTIFACT_BUCKET, PARAMETER_SETS, transformed_template
from tests.integration.deploy.moto_cfn_shims import MOTO_VERSION, moto_cloudformation_shims

# A region no other test uses: the session's moto server is shared, the stack stays apart.
REGION = "eu-west-1"


def empty_zip() -> bytes:
    """Code artifacts as empty archives: creating a function needs its code, running it does
    not happen here (so no `sam build`)."""
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    return buffer.getvalue()


@dataclass(frozen=True)
class Deployment:
    stack_name: str
    parameter_set: str
    parameters: dict[str, str]
    template: dict[str, Any]
    physical: dict[str, str]  # logical id -> physical id, as describe_stack_resources lists them
    outputs: dict[str, str]
    endpoint: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)


@pytest.fixture(scope="module")
def plain_step_functions(moto_endpoint: str) -> Iterator[None]:
    """moto serves Step Functions from its executing backend once the workflow tests switch it
    on, while its CloudFormation creates state machines in the plain one: the deploy is read
    back with execution off, then the switch goes back as it was."""
    from moto.core.config import default_user_config  # the server runs in this process

    url = f"{moto_endpoint}/moto-api/config"
    before = dict(default_user_config["stepfunctions"])
    requests.post(url, json={"stepfunctions": {"execute_state_machine": False}}, timeout=10)
    yield
    requests.post(url, json={"stepfunctions": before}, timeout=10)


@pytest.fixture(scope="module", params=sorted(PARAMETER_SETS))
def deployment(
    request: pytest.FixtureRequest, moto_endpoint: str, plain_step_functions: None
) -> Deployment:
    assert moto.__version__ == MOTO_VERSION, (
        f"moto is {moto.__version__}; moto_cfn_shims.py was written for {MOTO_VERSION}: check "
        "which shims it still needs (drop one, run the deploy test) and update MOTO_VERSION"
    )
    name = request.param
    overrides = PARAMETER_SETS[name]
    template, artifacts = transformed_template(overrides)
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    if ARTIFACT_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        location = {"LocationConstraint": REGION}
        s3.create_bucket(Bucket=ARTIFACT_BUCKET, CreateBucketConfiguration=location)
    for key, path in artifacts.items():
        body = path.read_bytes() if path.is_file() else empty_zip()
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=body)
    cfn = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name=REGION)
    stack = f"prelabel-{name}-{uuid.uuid4().hex[:6]}"
    with moto_cloudformation_shims():
        cfn.create_stack(
            StackName=stack,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        # moto resolves outputs at the first describe: still under the shims.
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    # Resources moto has no model for are listed without ids; they are checked on the JSON.
    resources = [
        r
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
        if "LogicalResourceId" in r
    ]
    return Deployment(
        stack_name=stack,
        parameter_set=name,
        parameters=overrides,
        template=template,
        physical={r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources},
        outputs={o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        endpoint=moto_endpoint,
    )
