"""template.yaml: lints clean, matches the pynamodb models and the settings, grants least privilege.

Fast on purpose: cfn-lint runs in-process and the template is parsed once; no `sam build` here
(`make build` does that).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cfnlint", reason="cfn-lint parses and lints template.yaml (dev extra)")

from cfnlint.api import lint_file
from cfnlint.config import ManualArgs
from cfnlint.decode import decode_str

from prelabel.adapters.dynamodb.models import (
    DatasetModel,
    DetectorModelItem,
    JobModel,
    OrganizationModel,
    PrelabelModel,
    ProjectModel,
    RunModel,
    TaskModel,
)
from prelabel.domain.plans import DEFAULT_MONTHLY_LIMITS, Plan
from prelabel.settings import FUNCTION_NEEDS, ConfigurationError, Settings

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Logical id of each table -> the pynamodb models that read and write it (the indexes of a
# shared table are declared on the models whose items they hold).
TABLE_MODELS: dict[str, tuple[Any, ...]] = {
    "OrganizationsTable": (OrganizationModel,),
    "ProjectsTable": (ProjectModel,),
    "DatasetsTable": (DatasetModel,),
    "TasksTable": (TaskModel, PrelabelModel),
    "RunsTable": (RunModel,),
    "JobsTable": (JobModel,),
    "ModelsTable": (DetectorModelItem,),
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """Parsed with cfn-lint's decoder (it keeps !Ref / !Sub / !GetAtt as Ref / Fn::* dicts).

    Deliberately local to this module (it shadows tests/local_aws.py's fixture of the same name),
    so these checks do not depend on the integration fixtures.
    """
    parsed, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    assert parsed is not None
    return dict(parsed)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def key_layout(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(attribute, HASH|RANGE) pairs, hash key first (DynamoDB's order; pynamodb's differs)."""
    return sorted(((k["AttributeName"], k["KeyType"]) for k in schema), key=lambda k: k[1])


def attr_types(defs: list[dict[str, str]]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in defs}


def model_schema(*models: Any) -> dict[str, Any]:
    """The table layout pynamodb would create for the models of one table (their own
    create_table inputs, merged: same keys, every model's indexes)."""
    schemas = [model._get_schema() for model in models]
    keys = {tuple(key_layout(schema["key_schema"])) for schema in schemas}
    assert len(keys) == 1, f"the models of one table disagree on its keys: {keys}"
    indexes = {}
    definitions: dict[str, str] = {}
    for schema in schemas:
        definitions.update(attr_types(schema["attribute_definitions"]))
        for gsi in schema["global_secondary_indexes"]:
            layout = (key_layout(gsi["key_schema"]), gsi["projection"]["ProjectionType"])
            indexes[gsi["index_name"]] = layout
            definitions.update(attr_types(gsi["attribute_definitions"]))
    return {"keys": list(keys.pop()), "attrs": definitions, "gsis": indexes}


def table_schema(props: dict[str, Any]) -> dict[str, Any]:
    indexes = {
        gsi["IndexName"]: (key_layout(gsi["KeySchema"]), gsi["Projection"]["ProjectionType"])
        for gsi in props.get("GlobalSecondaryIndexes", [])
    }
    return {
        "keys": key_layout(props["KeySchema"]),
        "attrs": attr_types(props["AttributeDefinitions"]),
        "gsis": indexes,
    }


def function_policies(template: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "Fn::If" in policy:
                _, when_true, when_false = policy["Fn::If"]
                yield from ((name, p) for p in (when_true, when_false) if "Ref" not in p)
            else:
                yield name, policy


def allow_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, policy in function_policies(template):
        if isinstance(policy, dict) and "Statement" in policy:
            for stmt in policy["Statement"]:
                yield name, stmt
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for stmt in policy["PolicyDocument"]["Statement"]:
                yield name, stmt


def env_of(template: dict[str, Any], function: str) -> dict[str, Any]:
    """A function's environment as deployed: Globals first, the function's own on top."""
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    own_env = template["Resources"][function]["Properties"].get("Environment", {})
    return {**globals_env.get("Variables", {}), **own_env.get("Variables", {})}


def resolve(value: Any, template: dict[str, Any]) -> str:
    """Stand-in for a deployed value: a Ref to a resource becomes its logical id, a Ref to a
    parameter becomes the parameter's default, a literal stays itself."""
    if isinstance(value, dict) and "Ref" in value:
        target = value["Ref"]
        param = template.get("Parameters", {}).get(target)
        return str(param["Default"]) if param is not None else str(target)
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"])  # e.g. a state machine's ARN, built from its fixed name
    assert isinstance(value, str | int), f"unexpected environment value {value!r}"
    return str(value)


# Logical id in the template -> the function's key in FUNCTION_NEEDS.
FUNCTION_KEYS = {
    "ApiFunction": "api",
    "PrepareFunction": "prepare",
    "LabelBatchFunction": "label_batch",
    "FinishFunction": "finish",
    "ResetQuotaFunction": "reset_quota",
    "JobStepFunction": "job_step",
    "JobFinishFunction": "job_finish",
    "ModelValidationFunction": "model_validation",
}


def deployed_settings(template: dict[str, Any], function: str) -> Settings:
    """The function's settings as its code reads them, checked for what that code needs."""
    env = {k: resolve(v, template) for k, v in env_of(template, function).items()}
    return Settings.from_env(env, FUNCTION_KEYS[function])


def test_cfn_lint_reports_no_errors_or_warnings() -> None:
    # Given the SAM template
    # When cfn-lint checks it (the same rules `sam validate --lint` applies)
    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["us-east-1"]))
    # Then nothing is reported, not even a warning
    problems = [f"{m.rule.id} {m.linenumber}: {m.message}" for m in matches]
    assert problems == []


@pytest.mark.parametrize("logical_id", sorted(TABLE_MODELS))
def test_table_layout_matches_its_pynamodb_model(template: dict[str, Any], logical_id: str) -> None:
    # Given a table in the template and the pynamodb model that uses it
    props = template["Resources"][logical_id]["Properties"]
    # When both layouts are read
    deployed, expected = table_schema(props), model_schema(*TABLE_MODELS[logical_id])
    # Then keys, key attribute types, indexes and projections are identical
    assert deployed == expected


def test_task_indexes_are_the_state_index_the_dataset_index_and_the_review_queue(
    template: dict[str, Any],
) -> None:
    # Given the tasks table
    props = template["Resources"]["TasksTable"]["Properties"]
    # When its indexes are read
    gsis = table_schema(props)["gsis"]
    # Then pages by state, finding work and disconnecting a dataset are queries on two
    # keys-only indexes that pre-labeling never writes (pre-labels are items of their own), and
    # the review queue is a keys-only index of the pre-labels' own partitions by `q`
    assert gsis == {
        "by-state": ([("state_key", "HASH"), ("task_id", "RANGE")], "KEYS_ONLY"),
        "by-dataset": ([("dataset_key", "HASH"), ("task_id", "RANGE")], "KEYS_ONLY"),
        "review-queue": ([("project_key", "HASH"), ("q", "RANGE")], "KEYS_ONLY"),
    }


def test_every_table_is_on_demand_recoverable_and_encrypted(template: dict[str, Any]) -> None:
    # Given every DynamoDB table
    tables = resources_of(template, "AWS::DynamoDB::Table")
    # When their settings are read
    # Then each is pay-per-request, has point-in-time recovery and SSE, and is retained
    assert set(tables) == set(TABLE_MODELS)
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert table["DeletionPolicy"] == "Retain", name


def test_no_policy_grants_wildcard_actions(template: dict[str, Any]) -> None:
    # Given every Allow statement of every function and role
    statements = [(n, s) for n, s in allow_statements(template) if s.get("Effect") == "Allow"]
    assert statements, "expected inline statements to check"
    # When their actions are listed
    # Then none is "*" or a whole service ("dynamodb:*", "s3:*", ...)
    for name, stmt in statements:
        actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), f"{name}: {action}"


def test_functions_grant_only_inline_statements(template: dict[str, Any]) -> None:
    # Given the functions' policies
    policies = list(function_policies(template))
    # When they are sorted into inline statements, policy templates and managed policies
    # Then every one is an inline statement: no managed policy by name (e.g.
    # AmazonDynamoDBFullAccess) and no SAM policy template (DynamoDBCrudPolicy and
    # DynamoDBReadPolicy grant Scan and DescribeTable, which no function but the reset needs;
    # tests/unit/test_transformed_template.py pins each function's exact grants)
    assert policies
    for name, policy in policies:
        assert isinstance(policy, dict), f"{name}: managed policy {policy!r}"
        assert list(policy) == ["Statement"], f"{name}: policy template {list(policy)}"


def test_reset_function_may_only_scan_and_update_organizations(template: dict[str, Any]) -> None:
    # Given the reset function's policies
    policies = [p for n, p in function_policies(template) if n == "ResetQuotaFunction"]
    # When they are read
    # Then there is one statement: Scan and UpdateItem on the organizations table
    assert policies == [
        {
            "Statement": [
                {
                    "Sid": "ResetOrganizations",
                    "Effect": "Allow",
                    "Action": ["dynamodb:Scan", "dynamodb:UpdateItem"],
                    "Resource": {"Fn::GetAtt": ["OrganizationsTable", "Arn"]},
                }
            ]
        }
    ]


def test_bucket_blocks_public_access_and_denies_insecure_transport(
    template: dict[str, Any],
) -> None:
    # Given the data bucket and its policy
    bucket = template["Resources"]["DataBucket"]["Properties"]
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]
    # When public access, encryption and the TLS condition are read
    block = bucket["PublicAccessBlockConfiguration"]
    deny_plain_http = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    # Then every public-access switch is on, objects are encrypted, and plain HTTP is refused
    assert policy["Bucket"] == {"Ref": "DataBucket"}
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert len(deny_plain_http) == 1
    assert deny_plain_http[0]["Action"] == "s3:*"
    assert {"Fn::Sub": "${DataBucket.Arn}/*"} in deny_plain_http[0]["Resource"]


def test_api_settings_name_every_table_and_the_bucket(template: dict[str, Any]) -> None:
    # Given the API function's environment as deployed
    # When the function's settings are read from it the way the code reads them at cold start
    settings = deployed_settings(template, "ApiFunction")
    # Then every table and the bucket point at this stack's resources, not the local defaults
    assert settings.organizations_table == "OrganizationsTable"
    assert settings.projects_table == "ProjectsTable"
    assert settings.datasets_table == "DatasetsTable"
    assert settings.tasks_table == "TasksTable"
    assert settings.runs_table == "RunsTable"
    assert settings.jobs_table == "JobsTable"
    assert settings.data_bucket == "DataBucket"
    assert settings.readable_dataset_buckets == ("DataBucket",)
    assert settings.org_claim == "custom:org_id"


def test_reset_settings_name_the_organizations_table_and_plan_limits(
    template: dict[str, Any],
) -> None:
    # Given the reset function's environment as deployed, with the parameters' defaults
    # When its settings are read
    settings = deployed_settings(template, "ResetQuotaFunction")
    # Then it resets this stack's organizations to the documented plan limits
    assert settings.organizations_table == "OrganizationsTable"
    assert settings.plan_limits == DEFAULT_MONTHLY_LIMITS
    assert set(settings.plan_limits) == set(Plan)


def test_users_cannot_write_their_organization(template: dict[str, Any]) -> None:
    # Given the user pool and its app client
    pool = template["Resources"]["UserPool"]["Properties"]
    client = template["Resources"]["UserPoolClient"]["Properties"]
    # When the org attribute and the client's attribute permissions are read
    org_attr = [a for a in pool["Schema"] if a["Name"] == "org_id"]
    # Then the org is a custom attribute the client may read but never write, and nobody
    # signs themselves up
    assert org_attr and org_attr[0]["AttributeDataType"] == "String"
    assert "custom:org_id" in client["ReadAttributes"]
    assert "WriteAttributes" in client
    assert "custom:org_id" not in client["WriteAttributes"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_every_api_route_requires_a_user_pool_token(template: dict[str, Any]) -> None:
    # Given the HTTP API and the API function's events
    api = template["Resources"]["HttpApi"]["Properties"]
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    # When the default authorizer and each route's auth are read
    auth = api["Auth"]
    jwt = auth["Authorizers"][auth["DefaultAuthorizer"]]["JwtConfiguration"]
    # Then the default is the Cognito JWT authorizer of this pool and client, and no route opts
    # out of it
    assert jwt["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    assert jwt["audience"] == [{"Ref": "UserPoolClient"}]
    for name, event in events.items():
        assert event["Type"] == "HttpApi", name
        assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}, name
        assert "Auth" not in event["Properties"], f"{name} overrides the default authorizer"


def test_monthly_reset_schedule_retries_and_keeps_failures(template: dict[str, Any]) -> None:
    # Given the reset function's schedule
    fn = template["Resources"]["ResetQuotaFunction"]["Properties"]
    schedule = fn["Events"]["MonthlyReset"]
    props = schedule["Properties"]
    dlq = template["Resources"]["ResetQuotaDlq"]["Properties"]
    # When its timing and failure handling are read
    # Then it fires at 00:00 UTC on the 1st, retries, and parks failures in an encrypted queue,
    # both failed deliveries (scheduler) and failed runs (Lambda async invoke)
    assert schedule["Type"] == "ScheduleV2"
    assert props["ScheduleExpression"] == "cron(0 0 1 * ? *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert props["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ResetQuotaDlq", "Arn"]}
    on_failure = fn["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure["Destination"] == {"Fn::GetAtt": ["ResetQuotaDlq", "Arn"]}
    assert dlq["SqsManagedSseEnabled"] is True


def test_plan_limit_parameters_default_to_the_documented_limits(template: dict[str, Any]) -> None:
    # Given the plan-limit parameters
    params = template["Parameters"]
    # When their defaults are read
    defaults = {
        Plan.FREE: params["PlanLimitFree"]["Default"],
        Plan.TEAM: params["PlanLimitTeam"]["Default"],
        Plan.TEAM_PRO: params["PlanLimitTeamPro"]["Default"],
    }
    # Then they equal the domain's defaults
    assert {plan: int(v) for plan, v in defaults.items()} == DEFAULT_MONTHLY_LIMITS


def test_everything_runs_python312_on_one_architecture(template: dict[str, Any]) -> None:
    # Given the function globals, the functions and the layer
    fn_globals = template["Globals"]["Function"]
    layer = template["Resources"]["PrelabelLayer"]
    # When runtime and architecture are read
    # Then functions and layer agree: python3.12 on arm64 (zip functions with the layer, the
    # image function on the Lambda python3.12 arm64 base), and the layer is built for arm64
    assert fn_globals["Architectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        assert "Architectures" not in fn["Properties"], f"{name} overrides the architecture"
        if fn["Properties"].get("PackageType") == "Image":
            dockerfile = ROOT / fn["Metadata"]["Dockerfile"]
            assert "FROM public.ecr.aws/lambda/python:3.12-arm64" in dockerfile.read_text()
            continue
        assert fn["Properties"]["Runtime"] == "python3.12", name
        assert fn["Properties"]["Layers"] == [{"Ref": "PrelabelLayer"}], name


@pytest.mark.parametrize("function", sorted(FUNCTION_KEYS))
def test_each_function_gets_every_variable_its_code_needs(
    template: dict[str, Any], function: str
) -> None:
    # Given a function's environment in the template
    # When its settings are read the way its handler reads them at cold start
    settings = deployed_settings(template, function)
    # Then everything it needs is there (a missing one would raise, naming the variable)
    for field in FUNCTION_NEEDS[FUNCTION_KEYS[function]]:
        assert getattr(settings, field), field


def test_a_missing_variable_fails_at_cold_start_naming_it(template: dict[str, Any]) -> None:
    # Given the worker's environment without its tasks table
    env = {k: resolve(v, template) for k, v in env_of(template, "LabelBatchFunction").items()}
    del env["TASKS_TABLE"]
    # When its settings are read
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env, "label_batch")
    # Then the error names the variable
    assert "TASKS_TABLE: Field required" in str(raised.value)
