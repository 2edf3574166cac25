"""`prelabel-admin --stack` on the stack CloudFormation created from the transformed template:
the template's outputs and parameters are all it needs to act on that stack's tables."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stderr

import pytest

from prelabel.container import use_container
from prelabel_admin import cli
from tests.integration.deploy.conftest import REGION, Deployment


def admin(stack: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        status = cli.main(["--stack", stack, "--region", REGION, *args], out=out)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def operator_machine(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AWS's endpoints are moto's here; nothing points at the local stack."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", deployment.endpoint)
    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    yield
    use_container(None)


@pytest.mark.usefixtures("operator_machine")
def test_admin_works_on_the_deployed_tables(deployment: Deployment) -> None:
    # Given the deployed stack (its organizations table is empty)
    stack = deployment.stack_name
    table = deployment.physical["OrganizationsTable"]
    # When the operator creates an organization and sets what it has left this month
    created = admin(stack, "org", "create", "acme", "--name", "Acme", "--plan", "TEAM_PRO")
    limited = admin(stack, "limit", "set-remaining", "acme", "120")
    # Then the stack's own organizations table holds it, with the plan's default amount
    assert created[0] == 0, created[2]
    assert limited[0] == 0, limited[2]
    item = deployment.client("dynamodb").get_item(TableName=table, Key={"org_id": {"S": "acme"}})
    fields = {k: next(iter(v.values())) for k, v in item["Item"].items()}
    assert (fields["plan"], fields["remaining"], fields["monthly_limit"]) == (
        "TEAM_PRO",
        "120",
        "120",
    )


@pytest.mark.usefixtures("operator_machine")
def test_grants_follow_the_stacks_dataset_buckets(deployment: Deployment) -> None:
    # Given the stack's DatasetBuckets parameter (empty by default) and an organization
    stack = deployment.stack_name
    assert admin(stack, "org", "create", "beta", "--name", "Beta", "--plan", "TEAM")[0] == 0
    listed = deployment.parameters.get("DatasetBuckets", "")
    # When the operator grants a folder of the first listed bucket (or of any bucket)
    bucket = listed.split(",")[0] if listed else "prelabel-datasets-a"
    status, out, err = admin(stack, "grant", "add", "beta", "--bucket", bucket, "--prefix", "t/")
    # Then it is granted only where the stack lists the bucket
    if listed:
        assert status == 0, err
        assert f"s3://{bucket}/t/" in out
    else:
        assert status == 1
        assert "is not a dataset bucket of this deployment (none)" in err
