"""An operator at a deployed stack, offline: `prelabel-admin --stack NAME` reads the stack's
outputs and parameters from moto's CloudFormation, writes the tables they name and creates
users in a moto Cognito user pool shaped like the template's."""

from __future__ import annotations

import io
import json
import uuid
from contextlib import redirect_stderr
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from prelabel_admin import cli
from prelabel_local.template_resources import table_definitions
from tests.integration.admin.conftest import Ran

REGION = "ap-southeast-2"  # no other test uses it on the shared moto server


@dataclass
class Deployed:
    name: str
    pool: str
    endpoint: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)


def small_stack(template: dict[str, Any]) -> dict[str, Any]:
    """The template's tables and a bucket, with the outputs and parameters the CLI reads; the
    user pool id comes in as a parameter (moto's CloudFormation makes no Cognito pools)."""
    tables = table_definitions(template)
    resources: dict[str, Any] = {
        logical: {"Type": "AWS::DynamoDB::Table", "Properties": spec}
        for logical, spec in tables.items()
    }
    resources["DataBucket"] = {"Type": "AWS::S3::Bucket"}
    outputs = {f"{logical}Name": {"Value": {"Ref": logical}} for logical in tables}
    outputs["DataBucketName"] = {"Value": {"Ref": "DataBucket"}}
    outputs["UserPoolId"] = {"Value": {"Ref": "PoolId"}}
    parameters = {
        "PoolId": {"Type": "String"},
        "DatasetBuckets": {"Type": "String", "Default": ""},
        "PlanLimitTeam": {"Type": "Number", "Default": 1000},
    }
    return {"Parameters": parameters, "Resources": resources, "Outputs": outputs}


@pytest.fixture
def deployed(
    moto_endpoint: str, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Deployed:
    cognito = boto3.client("cognito-idp", endpoint_url=moto_endpoint, region_name=REGION)
    pool = cognito.create_user_pool(
        PoolName="prelabel-users",
        UsernameAttributes=["email"],
        Schema=[{"Name": "org_id", "AttributeDataType": "String", "Mutable": False}],
    )["UserPool"]["Id"]
    name = f"prelabel-{uuid.uuid4().hex[:6]}"
    cfn = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name=REGION)
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(small_stack(template)),
        Parameters=[
            {"ParameterKey": "PoolId", "ParameterValue": pool},
            {"ParameterKey": "PlanLimitTeam", "ParameterValue": "250"},
        ],
    )
    # The operator's machine: AWS's endpoints (moto here), no local-stack overrides.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for name_ in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name_, raising=False)
    return Deployed(name, pool, moto_endpoint)


def run(stack: str, *args: str) -> Ran:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        status = cli.main(["--stack", stack, "--region", REGION, *args], out=out)
    return Ran(status, out.getvalue(), err.getvalue())


def test_operator_creates_an_organization_and_its_users(deployed: Deployed) -> None:
    # Given a deployed stack whose TEAM plan gives 250 images a month
    # When the operator creates acme on TEAM and a user for it (without an invitation email)
    created = run(deployed.name, "org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    user = run(
        deployed.name,
        "user",
        "create",
        "acme",
        "alice@acme.example",
        "--name",
        "Alice",
        "--no-email",
        "--json",
    )
    # Then acme has the stack's TEAM amount, and the user pool holds alice with acme's id
    assert created.status == 0, created.err
    assert "0 used of 250" in created.out
    assert user.status == 0, user.err
    assert (user.json()["email"], user.json()["org_id"]) == ("alice@acme.example", "acme")
    pool_user = deployed.client("cognito-idp").admin_get_user(
        UserPoolId=deployed.pool, Username="alice@acme.example"
    )
    attributes = {a["Name"]: a["Value"] for a in pool_user["UserAttributes"]}
    assert attributes["custom:org_id"] == "acme"
    assert attributes["email_verified"] == "true"


def test_users_are_listed_per_organization(deployed: Deployed) -> None:
    # Given acme with two users, and a user of another organization in the same pool
    run(deployed.name, "org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    for email in ("bo@acme.example", "al@acme.example"):
        assert run(deployed.name, "user", "create", "acme", email, "--no-email").status == 0
    deployed.client("cognito-idp").admin_create_user(
        UserPoolId=deployed.pool,
        Username="x@beta.example",
        UserAttributes=[{"Name": "custom:org_id", "Value": "beta"}],
        MessageAction="SUPPRESS",
    )
    # When the operator lists acme's users and shows acme
    listed = run(deployed.name, "user", "list", "acme", "--json").json()
    shown = run(deployed.name, "org", "show", "acme")
    # Then only acme's users appear, by email, in both
    assert [u["email"] for u in listed] == ["al@acme.example", "bo@acme.example"]
    assert "users       2" in shown.out and "x@beta.example" not in shown.out


def test_user_refusals(deployed: Deployed) -> None:
    # Given acme with one user
    run(deployed.name, "org", "create", "acme", "--name", "Acme", "--plan", "TEAM")
    run(deployed.name, "user", "create", "acme", "al@acme.example", "--no-email")
    # When the operator creates the same user again, one for an unknown organization, asks for
    # a local token, or names a stack that does not exist
    again = run(deployed.name, "user", "create", "acme", "al@acme.example", "--no-email")
    ghost = run(deployed.name, "user", "create", "ghost", "g@ghost.example", "--no-email")
    token = run(deployed.name, "user", "token", "acme")
    missing = run("no-such-stack", "org", "list")
    # Then each is refused, saying why
    assert again.status == 1 and "al@acme.example" in again.err and "exists" in again.err
    assert ghost.status == 1 and "'ghost'" in ghost.err
    assert token.status == 2 and "Cognito" in token.err
    assert missing.status == 2 and "no stack 'no-such-stack'" in missing.err
