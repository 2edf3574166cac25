"""template.yaml deploys: the SAM-transformed template, packaged as `sam package` would (code as
empty zips, the ASL file uploaded), created in moto's CloudFormation for each parameter set
(conftest.py), and read back through the services' own APIs.

What moto creates is asserted here; what it has no model for (HTTP API and its JWT authorizer,
Cognito, CloudFront, alarms, EventInvokeConfig, SNS subscriptions) and settings it ignores
(layers, architecture, tracing, state machine logging, bucket versioning and logging, PITR, SSE)
are asserted on the transformed JSON in tests/unit/test_transformed_template.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from prelabel.settings import Settings
from tests.integration.deploy.conftest import Deployment
from tests.integration.deploy.moto_cfn_shims import policy_document

pytestmark = [
    # moto warns for each resource type it has no model for; those are checked on the JSON.
    pytest.mark.filterwarnings("ignore:Tried to parse .* not supported by moto:UserWarning"),
]


@dataclass(frozen=True)
class Table:
    setting: str  # the Settings field that names it, filled from the function's environment
    keys: tuple[str, ...]  # hash key, then range key
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)


# Every table the template declares, with its keys and indexes. A new table is one line here.
EXPECTED_TABLES = {
    "OrganizationsTable": Table("organizations_table", ("org_id",)),
    "ProjectsTable": Table("projects_table", ("org_id", "project_id"), {"by-id": ("project_id",)}),
    "DatasetsTable": Table("datasets_table", ("project_key", "dataset_id")),
    "TasksTable": Table(
        "tasks_table",
        ("project_key", "task_id"),
        {
            "by-state": ("state_key", "task_id"),
            "by-dataset": ("dataset_key", "task_id"),
            # Sparse, keys only: the pre-labels ahead of the rest in review order.
            "review-queue": ("project_key", "q"),
        },
    ),
    "RunsTable": Table("runs_table", ("project_key", "run_id")),
    "JobsTable": Table("jobs_table", ("project_key", "job_id")),
    "ModelsTable": Table("models_table", ("owner_key", "item_key")),
}

# The tables each workflow function reads or writes; the API function names every table.
WORKFLOW_TABLES = {
    "PrepareFunction": {"OrganizationsTable", "ProjectsTable", "TasksTable", "RunsTable"},
    "LabelBatchFunction": {"OrganizationsTable", "TasksTable", "RunsTable"},
    "FinishFunction": {"ProjectsTable", "TasksTable", "RunsTable"},
    "ResetQuotaFunction": {"OrganizationsTable"},
    "JobStepFunction": {
        "OrganizationsTable",
        "ProjectsTable",
        "DatasetsTable",
        "TasksTable",
        "JobsTable",
    },
    "JobFinishFunction": {"DatasetsTable", "JobsTable"},
}
FUNCTIONS = ["ApiFunction", *WORKFLOW_TABLES]
# The model validation job: a container image (its handler is the image's command).
IMAGE_FUNCTIONS = {"ModelValidationFunction": {"ModelsTable"}}
# Functions that read or write the data bucket (images, manifests, exports).
DATA_BUCKET_USERS = {"ApiFunction", "PrepareFunction", "LabelBatchFunction", "JobStepFunction"}


def key_names(schema: list[dict[str, str]]) -> tuple[str, ...]:
    ordered = sorted(schema, key=lambda k: k["KeyType"])  # HASH before RANGE
    return tuple(k["AttributeName"] for k in ordered)


def resources_of_type(d: Deployment, kind: str) -> set[str]:
    return {k for k, v in d.template["Resources"].items() if v["Type"] == kind}


def function_config(d: Deployment, logical_id: str) -> dict[str, Any]:
    config: dict[str, Any] = d.client("lambda").get_function_configuration(
        FunctionName=d.physical[logical_id]
    )
    return config


def function_arn(d: Deployment, logical_id: str) -> str:
    return str(function_config(d, logical_id)["FunctionArn"])


def role_statements(d: Deployment, role_logical_id: str) -> list[dict[str, Any]]:
    iam = d.client("iam")
    role = d.physical[role_logical_id]
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        raw = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        statements += policy_document(raw)["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_declared_table_is_created_with_its_keys_and_indexes(deployment: Deployment) -> None:
    # Given the deployed stack
    ddb = deployment.client("dynamodb")
    # When each table is described by its physical name
    declared = resources_of_type(deployment, "AWS::DynamoDB::Table")
    layouts = {}
    for logical_id in declared:
        table = ddb.describe_table(TableName=deployment.physical[logical_id])["Table"]
        indexes = {
            gsi["IndexName"]: key_names(gsi["KeySchema"])
            for gsi in table.get("GlobalSecondaryIndexes", [])
        }
        layouts[logical_id] = (key_names(table["KeySchema"]), indexes, table)
    # Then the tables are exactly the expected ones, on demand, with their keys and indexes, and
    # deletion protection follows the parameter
    assert set(layouts) == set(EXPECTED_TABLES)
    protected = deployment.parameters.get("DeletionProtection", "true") == "true"
    for logical_id, expected in EXPECTED_TABLES.items():
        keys, indexes, table = layouts[logical_id]
        assert keys == expected.keys, logical_id
        assert indexes == expected.indexes, logical_id
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert table["DeletionProtectionEnabled"] is protected, logical_id


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_environment_names_this_stacks_resources(
    deployment: Deployment, function: str
) -> None:
    # Given a deployed function
    config = function_config(deployment, function)
    env = {k: str(v) for k, v in config["Environment"]["Variables"].items()}
    # When its settings are read from the environment the way the code reads them at cold start
    settings = Settings.from_env(env)
    # Then each table it uses is this stack's table, the bucket is this stack's data bucket, it
    # runs with its own role and the app's handler
    tables = set(EXPECTED_TABLES) if function == "ApiFunction" else WORKFLOW_TABLES[function]
    for logical_id in tables:
        setting = EXPECTED_TABLES[logical_id].setting
        assert getattr(settings, setting) == deployment.physical[logical_id], setting
    if function in DATA_BUCKET_USERS:
        assert settings.data_bucket == deployment.physical["DataBucket"]
    iam_role = deployment.client("iam").get_role(RoleName=deployment.physical[f"{function}Role"])
    assert config["Role"] == iam_role["Role"]["Arn"]
    assert config["Handler"] == "app.handler"
    assert config["Runtime"] == "python3.12"


def test_the_validation_function_is_an_image_on_this_stacks_models_and_its_machine_calls_it(
    deployment: Deployment,
) -> None:
    # Given the deployed validation function, its machine, and the API's settings
    config = function_config(deployment, "ModelValidationFunction")
    settings = Settings.from_env({k: str(v) for k, v in config["Environment"]["Variables"].items()})
    api_env = function_config(deployment, "ApiFunction")["Environment"]["Variables"]
    api = Settings.from_env({k: str(v) for k, v in api_env.items()})
    machine = deployment.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.physical["ModelValidationStateMachine"]
    )
    states = json.loads(machine["definition"])["States"]
    # Then it runs as an image with this stack's models table and bucket; the API starts this
    # machine, whose Validate and Failed states both call the function
    # (moto's CloudFormation creates every function as Zip: the template says what AWS gets)
    declared = deployment.template["Resources"]["ModelValidationFunction"]["Properties"]
    assert declared["PackageType"] == "Image" and declared["Code"]["ImageUri"]
    assert settings.models_table == deployment.physical["ModelsTable"]
    assert settings.models_bucket == deployment.physical["ModelsBucket"]
    assert api.models_bucket == deployment.physical["ModelsBucket"]
    assert api.model_validation_state_machine_arn == machine["stateMachineArn"]
    target = function_arn(deployment, "ModelValidationFunction")
    assert states["Validate"]["Parameters"]["FunctionName"] == target
    assert states["Failed"]["Parameters"]["FunctionName"] == target
    assert "${" not in machine["definition"]


def test_api_starts_the_deployed_state_machines_and_knows_the_dataset_buckets(
    deployment: Deployment,
) -> None:
    # Given the API function's settings and the deployed state machines
    env = function_config(deployment, "ApiFunction")["Environment"]["Variables"]
    settings = Settings.from_env({k: str(v) for k, v in env.items()})
    sfn = deployment.client("stepfunctions")
    # When the ARNs the API starts runs and jobs with are compared with the machines'
    runs = sfn.describe_state_machine(stateMachineArn=settings.state_machine_arn)
    jobs = sfn.describe_state_machine(stateMachineArn=settings.jobs_state_machine_arn)
    # Then they are the same machines, and datasets may come from the listed buckets (or the
    # data bucket when none is listed)
    assert runs["stateMachineArn"] == deployment.physical["PrelabelStateMachine"]
    assert jobs["stateMachineArn"] == deployment.physical["JobsStateMachine"]
    listed = deployment.parameters.get("DatasetBuckets", "")
    expected = tuple(listed.split(",")) if listed else (deployment.physical["DataBucket"],)
    assert settings.readable_dataset_buckets == expected


def test_jobs_state_machine_loops_this_stacks_step_then_finish(deployment: Deployment) -> None:
    # Given the deployed jobs state machine
    described = deployment.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.physical["JobsStateMachine"]
    )
    # When its definition is parsed
    text = described["definition"]
    states = json.loads(text)["States"]
    # Then no placeholder is left, Step and Finish call this stack's functions, and the loop
    # goes back to Step until a step answers done
    assert "${" not in text
    assert states["Step"]["Parameters"]["FunctionName"] == function_arn(
        deployment, "JobStepFunction"
    )
    assert states["Finish"]["Parameters"]["FunctionName"] == function_arn(
        deployment, "JobFinishFunction"
    )
    assert states["MoreWork"]["Default"] == "Step"
    assert states["MoreWork"]["Choices"][0]["Next"] == "Finish"
    role = deployment.client("iam").get_role(RoleName=deployment.physical["JobsStateMachineRole"])
    assert described["roleArn"] == role["Role"]["Arn"]


def test_state_machine_definition_is_fully_substituted(deployment: Deployment) -> None:
    # Given the deployed state machine
    described = deployment.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.physical["PrelabelStateMachine"]
    )
    # When its definition is parsed
    text = described["definition"]
    states = json.loads(text)["States"]
    item_processor = states["LabelBatches"]["ItemProcessor"]
    # Then no placeholder is left, each task calls this stack's function, map children are
    # EXPRESS, and it runs with its own role
    assert "${" not in text
    assert states["Prepare"]["Parameters"]["FunctionName"] == function_arn(
        deployment, "PrepareFunction"
    )
    assert item_processor["States"]["LabelBatch"]["Parameters"]["FunctionName"] == function_arn(
        deployment, "LabelBatchFunction"
    )
    assert states["Finish"]["Parameters"]["FunctionName"] == function_arn(
        deployment, "FinishFunction"
    )
    assert item_processor["ProcessorConfig"]["ExecutionType"] == "EXPRESS"
    role = deployment.client("iam").get_role(
        RoleName=deployment.physical["PrelabelStateMachineRole"]
    )
    assert described["roleArn"] == role["Role"]["Arn"]


@pytest.mark.parametrize("bucket", ["DataBucket", "WebBucket", "AccessLogBucket"])
def test_bucket_policy_refuses_plain_http(deployment: Deployment, bucket: str) -> None:
    # Given a deployed bucket
    name = deployment.physical[bucket]
    # When its policy is read
    policy = json.loads(deployment.client("s3").get_bucket_policy(Bucket=name)["Policy"])
    # Then every request without TLS is denied, on the bucket and on its objects
    deny = [s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport"]
    assert deny == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_access_logs_are_delivered_only_from_this_stacks_buckets(deployment: Deployment) -> None:
    # Given the access-log bucket's policy
    name = deployment.physical["AccessLogBucket"]
    policy = json.loads(deployment.client("s3").get_bucket_policy(Bucket=name)["Policy"])
    # When the log-delivery grant is read
    (grant,) = [s for s in policy["Statement"] if s["Sid"] == "S3ServerAccessLogDelivery"]
    # Then only S3 log delivery may write, only under the two prefixes, only for the data and
    # web buckets of this account
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == [
        f"arn:aws:s3:::{name}/data/*",
        f"arn:aws:s3:::{name}/web/*",
        f"arn:aws:s3:::{name}/models/*",
    ]
    assert grant["Condition"]["ArnLike"]["aws:SourceArn"] == [
        f"arn:aws:s3:::{deployment.physical['DataBucket']}",
        f"arn:aws:s3:::{deployment.physical['WebBucket']}",
        f"arn:aws:s3:::{deployment.physical['ModelsBucket']}",
    ]
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"].isdigit()


def test_monthly_reset_schedule_targets_the_reset_function(deployment: Deployment) -> None:
    # Given the deployed schedule
    arn = deployment.physical["ResetQuotaFunctionMonthlyReset"]
    schedule = deployment.client("scheduler").get_schedule(Name=arn.rsplit("/", 1)[-1])
    # When its timing and target are read
    target = schedule["Target"]
    queue_url = deployment.physical["ResetQuotaDlq"]
    dlq_arn = deployment.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    # Then it fires on the 1st at 00:00 UTC, invokes this stack's reset function with the
    # scheduled time, retries, and parks failures in this stack's queue
    assert schedule["ScheduleExpression"] == "cron(0 0 1 * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["State"] == "ENABLED"
    assert target["Arn"] == function_arn(deployment, "ResetQuotaFunction")
    assert json.loads(target["Input"]) == {"time": "<aws.scheduler.scheduled-time>"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["DeadLetterConfig"]["Arn"] == dlq_arn


def test_execution_end_rule_sends_this_machines_failures_to_finish(deployment: Deployment) -> None:
    # Given the deployed EventBridge rule
    events = deployment.client("events")
    rule = events.describe_rule(Name=deployment.physical["FinishFunctionExecutionEnded"])
    # When its pattern and targets are read
    pattern = json.loads(rule["EventPattern"])
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    # Then aborted, failed and timed-out executions of this stack's machine invoke Finish
    assert pattern["source"] == ["aws.states"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert pattern["detail"]["stateMachineArn"] == [deployment.physical["PrelabelStateMachine"]]
    assert [t["Arn"] for t in targets] == [function_arn(deployment, "FinishFunction")]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_the_reset_function_may_scan(deployment: Deployment, function: str) -> None:
    # Given a function's deployed role
    statements = role_statements(deployment, f"{function}Role")
    # When its allowed actions are listed
    actions = {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    # Then Scan is granted to the monthly reset alone (it walks every organization), and on
    # the organizations table only
    if function == "ResetQuotaFunction":
        (scan,) = [s for s in statements if "dynamodb:Scan" in as_list(s["Action"])]
        assert scan["Resource"].endswith(f":table/{deployment.physical['OrganizationsTable']}")
    else:
        assert "dynamodb:Scan" not in actions
    assert actions, f"{function}Role grants nothing"


@pytest.mark.parametrize("function", ["ApiFunction", "LabelBatchFunction", "JobStepFunction"])
def test_dataset_buckets_are_readable_only_when_listed(
    deployment: Deployment, function: str
) -> None:
    # Given a function that reads images, and the DatasetBuckets parameter of this deployment
    listed = [b for b in deployment.parameters.get("DatasetBuckets", "").split(",") if b]
    # When its role's S3 grants are read
    statements = role_statements(deployment, f"{function}Role")
    objects = {
        r for s in statements if s["Action"] == "s3:GetObject" for r in as_list(s["Resource"])
    }
    listings = {
        r for s in statements if s["Action"] == "s3:ListBucket" for r in as_list(s["Resource"])
    }
    # Then it reads the data bucket's objects and, one ARN per listed bucket, those buckets'
    # objects; only the job step lists them (imports), the worker lists nothing, the API only
    # the models bucket (a deleted model's files)
    data = deployment.physical["DataBucket"]
    assert objects == {f"arn:aws:s3:::{data}/*", *(f"arn:*:s3:::{b}/*" for b in listed)}
    if function == "JobStepFunction":
        assert listings == {f"arn:aws:s3:::{data}", *(f"arn:*:s3:::{b}" for b in listed)}
    elif function == "ApiFunction":
        assert listings == {f"arn:aws:s3:::{deployment.physical['ModelsBucket']}"}
    else:
        assert listings == set()


def test_outputs_name_this_stacks_tables_bucket_and_topic(deployment: Deployment) -> None:
    # Given the stack's outputs, which operators and the CLI read
    outputs = deployment.outputs
    # When they are compared with the deployed resources
    # Then each names the resource of this stack it describes
    table_outputs = {k for k in outputs if k.endswith("TableName")}
    assert table_outputs, "expected the tables' names among the outputs"
    for key in table_outputs:
        assert outputs[key] == deployment.physical[key.removesuffix("Name")], key
    assert outputs["DataBucketName"] == deployment.physical["DataBucket"]
    assert outputs["WebBucketName"] == deployment.physical["WebBucket"]
    assert outputs["AlarmTopicArn"] == deployment.physical["AlarmTopic"]
