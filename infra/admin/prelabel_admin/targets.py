"""Which deployment the admin CLI acts on: a CloudFormation stack (read from its outputs and
parameters) or the running local stack (read from its state file)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from pydantic import ValidationError

from prelabel.settings import Settings

# Stack output -> the Settings field it fills (template.yaml's Outputs).
OUTPUT_SETTINGS = {
    "OrganizationsTableName": "organizations_table",
    "ProjectsTableName": "projects_table",
    "DatasetsTableName": "datasets_table",
    "TasksTableName": "tasks_table",
    "RunsTableName": "runs_table",
    "DataBucketName": "data_bucket",
}
# Stack parameter -> the Settings field it fills (the functions get them the same way).
PARAMETER_SETTINGS = {
    "DatasetBuckets": "dataset_buckets",
    "PlanLimitFree": "plan_limit_free",
    "PlanLimitTeam": "plan_limit_team",
    "PlanLimitTeamPro": "plan_limit_team_pro",
}
USER_POOL_OUTPUT = "UserPoolId"


class TargetError(RuntimeError):
    """The deployment cannot be reached or read; the message says what to do."""


@dataclass(frozen=True)
class Target:
    description: str
    settings: Settings
    user_pool_id: str | None = None
    # The local stack's state file (its folder holds the local JWT signing key).
    local_state: Path | None = None


def _describe(cfn: Any, stack: str) -> dict[str, Any]:
    region = cfn.meta.region_name
    try:
        described: dict[str, Any] = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except NoCredentialsError as exc:
        raise TargetError(
            "no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY) for the stack's account"
        ) from exc
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if "does not exist" in message:
            raise TargetError(f"--stack: no stack {stack!r} in region {region}") from exc
        raise TargetError(f"--stack: reading stack {stack!r} failed: {message}") from exc
    except BotoCoreError as exc:
        raise TargetError(f"--stack: reading stack {stack!r} failed: {exc}") from exc
    return described


def stack_target(stack: str, region: str | None = None) -> Target:
    import boto3

    try:
        cfn = boto3.client("cloudformation", region_name=region)
    except NoRegionError as exc:
        raise TargetError("no AWS region: pass --region or set AWS_REGION") from exc
    described = _describe(cfn, stack)
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])}
    missing = [key for key in OUTPUT_SETTINGS if not outputs.get(key)]
    if missing:
        raise TargetError(
            f"--stack: stack {stack!r} has no output {', '.join(missing)}: "
            "is it a Prelabel stack, deployed from the current template.yaml?"
        )
    parameters = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
        for p in described.get("Parameters", [])
    }
    values: dict[str, Any] = {field: outputs[key] for key, field in OUTPUT_SETTINGS.items()}
    values |= {f: parameters[k] for k, f in PARAMETER_SETTINGS.items() if k in parameters}
    values["region"] = cfn.meta.region_name
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise TargetError(f"--stack: stack {stack!r} has unusable outputs: {exc}") from exc
    return Target(
        description=f"stack {stack} ({cfn.meta.region_name})",
        settings=settings,
        user_pool_id=outputs.get(USER_POOL_OUTPUT) or None,
    )


def local_target(state_file: Path | None = None) -> Target:
    """The running local stack; this process then talks to its endpoints with local keys."""
    from prelabel_local.state import NoLocalStack, default_state_path, read_state, use_local_stack

    path = (state_file or default_state_path()).resolve()
    try:
        state = read_state(path)
    except NoLocalStack as exc:
        raise TargetError(str(exc)) from exc
    use_local_stack(state)
    settings = Settings.from_env(os.environ)
    _check_answers(settings, path)
    return Target(description=f"local stack ({path})", settings=settings, local_state=path)


def _check_answers(settings: Settings, path: Path) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint,
        region_name=settings.region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
    )
    try:
        client.describe_table(TableName=settings.organizations_table or "")
    except (BotoCoreError, ClientError) as exc:
        raise TargetError(
            f"the local stack of {path} does not answer at {settings.dynamodb_endpoint} ({exc}); "
            "start it with `.venv/bin/python -m prelabel_local.stack`"
        ) from exc
