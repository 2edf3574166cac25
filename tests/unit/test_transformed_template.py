"""The SAM-transformed template (what CloudFormation receives), for each parameter set.

Checks what moto's CloudFormation does not create or ignores (tests/integration/deploy deploys
the rest): the HTTP API and its JWT authorizer, the Cognito client, CloudFront, alarms, the
reset's failure destination, state machine logging, layers and architecture, bucket logging;
and each function's exact DynamoDB grants.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("samtranslator", reason="the SAM transform runs aws-sam-translator (dev extra)")
pytest.importorskip(
    "cfnlint", reason="the SAM transform reads template.yaml with cfn-lint (dev extra)"
)

from prelabel_local.sam_transform import PARAMETER_SETS, transformed_template

FUNCTIONS = [
    "ApiFunction",
    "PrepareFunction",
    "LabelBatchFunction",
    "FinishFunction",
    "ResetQuotaFunction",
    "JobStepFunction",
    "JobFinishFunction",
    "ModelValidationFunction",
]

# DynamoDB actions per function and table (or index), as the adapters in
# layers/prelabel/prelabel/adapters/dynamodb call them: pynamodb get/save/update/delete are
# Get/Put/Update/DeleteItem, query and count are Query, batch_get/batch_write are
# BatchGet/BatchWriteItem, TransactWrite needs the Put/Update of each item it holds, and scan
# (the monthly reset walking every organization) is Scan.
DYNAMODB_GRANTS: dict[str, dict[str, set[str]]] = {
    "ApiFunction": {
        "OrganizationsTable": {"GetItem"},
        "ProjectsTable": {"GetItem", "PutItem", "UpdateItem", "Query", "ConditionCheckItem"},
        "DatasetsTable": {"GetItem", "PutItem", "UpdateItem", "Query"},
        "TasksTable": {"BatchGetItem", "UpdateItem", "Query"},
        "TasksTable/index/by-state": {"Query"},
        "TasksTable/index/by-dataset": {"Query"},
        # Task pages in review order.
        "TasksTable/index/review-queue": {"Query"},
        "RunsTable": {"GetItem", "PutItem", "UpdateItem", "Query"},
        "JobsTable": {"GetItem", "PutItem", "UpdateItem", "Query"},
        # Models declared (with their first upload) and uploads added in transactions (Put,
        # ConditionCheck), counted and listed (Query), picked with the project (Update),
        # deleted with their records (Delete, BatchWrite).
        "ModelsTable": {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "BatchWriteItem",
            "ConditionCheckItem",
        },
    },
    "PrepareFunction": {
        "OrganizationsTable": {"GetItem"},
        "ProjectsTable": {"GetItem", "UpdateItem"},
        "ProjectsTable/index/by-id": {"Query"},
        "TasksTable": {"BatchGetItem", "Query"},
        "TasksTable/index/by-state": {"Query"},
        "RunsTable": {"GetItem", "PutItem", "UpdateItem"},
    },
    "LabelBatchFunction": {
        "OrganizationsTable": {"GetItem", "UpdateItem"},
        "ProjectsTable": {"GetItem"},
        "TasksTable": {"BatchGetItem", "PutItem", "UpdateItem"},
        "RunsTable": {"GetItem", "PutItem", "UpdateItem", "DeleteItem"},
    },
    "FinishFunction": {
        "ProjectsTable": {"UpdateItem"},
        "ProjectsTable/index/by-id": {"Query"},
        "RunsTable": {"GetItem", "UpdateItem"},
    },
    "ResetQuotaFunction": {"OrganizationsTable": {"Scan", "UpdateItem"}},
    # A job's slice: tasks put, updated or deleted in transactions with the counters, the
    # dataset's task_count (Update), the no-run check (ConditionCheck) or the job's progress.
    "JobStepFunction": {
        "OrganizationsTable": {"GetItem"},
        "ProjectsTable": {"GetItem", "ConditionCheckItem"},
        "DatasetsTable": {"GetItem", "UpdateItem"},
        "TasksTable": {
            "BatchGetItem",
            "BatchWriteItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
        },
        "TasksTable/index/by-state": {"Query"},
        "TasksTable/index/by-dataset": {"Query"},
        "RunsTable": {"GetItem"},
        "JobsTable": {"GetItem", "PutItem", "UpdateItem", "Query"},
    },
    "JobFinishFunction": {
        "DatasetsTable": {"GetItem", "UpdateItem", "DeleteItem"},
        "JobsTable": {"GetItem", "UpdateItem", "Query"},
    },
    # The upload (Get, Update), the version put once, finished with the model in one
    # transaction (Update) or dropped (Delete).
    "ModelValidationFunction": {"ModelsTable": {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}},
}

LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


@pytest.fixture(scope="module", params=sorted(PARAMETER_SETS))
def parameters(request: pytest.FixtureRequest) -> dict[str, str]:
    return PARAMETER_SETS[request.param]


@pytest.fixture(scope="module")
def transformed(parameters: dict[str, str]) -> dict[str, Any]:
    template, _ = transformed_template(parameters)
    return template


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    value: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return value


def role_statements(template: dict[str, Any], role: str) -> Iterator[dict[str, Any]]:
    """Every statement of a role's inline policies, both branches of a conditional one."""
    for policy in props(template, role).get("Policies", []):
        branches = policy["Fn::If"][1:] if "Fn::If" in policy else [policy]
        for branch in branches:
            if branch != {"Ref": "AWS::NoValue"}:
                yield from branch["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def dynamodb_target(resource: Any) -> str:
    """`GetAtt X.Arn` -> X, `Sub ${X.Arn}/index/i` -> X/index/i."""
    if "Fn::GetAtt" in resource:
        logical_id, attribute = resource["Fn::GetAtt"]
        assert attribute == "Arn"
        return str(logical_id)
    text = resource["Fn::Sub"]
    assert text.startswith("${") and ".Arn}" in text, text
    return str(text[2:].replace(".Arn}", "", 1))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_role_grants_exactly_the_dynamodb_calls_its_code_makes(
    transformed: dict[str, Any], function: str
) -> None:
    # Given a function's role as CloudFormation receives it
    grants: dict[str, set[str]] = {}
    # When its DynamoDB actions are collected per table and index
    for stmt in role_statements(transformed, f"{function}Role"):
        actions = [a for a in as_list(stmt["Action"]) if a.startswith("dynamodb:")]
        if not actions:
            continue
        assert stmt["Effect"] == "Allow"
        for resource in as_list(stmt["Resource"]):
            target = grants.setdefault(dynamodb_target(resource), set())
            target.update(a.removeprefix("dynamodb:") for a in actions)
    # Then they are exactly the operations its adapters call: no Scan outside the monthly
    # reset, no DescribeTable, nothing on tables the function does not touch
    assert grants == DYNAMODB_GRANTS[function]


def test_http_api_requires_a_token_of_this_user_pool_on_every_route(
    transformed: dict[str, Any],
) -> None:
    # Given the HTTP API's OpenAPI body as the transform wrote it
    body = props(transformed, "HttpApi")["Body"]
    schemes = body["components"]["securitySchemes"]
    # When its authorizer and every route's security are read
    jwt = schemes["CognitoJwt"]["x-amazon-apigateway-authorizer"]
    routes = [op for path in body["paths"].values() for op in path.values()]
    # Then the only authorizer checks JWTs of this pool for this client, and every route uses it
    assert list(schemes) == ["CognitoJwt"]
    assert jwt["type"] == "jwt"
    assert jwt["identitySource"] == "$request.header.Authorization"
    assert jwt["jwtConfiguration"] == {
        "issuer": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"},
        "audience": [{"Ref": "UserPoolClient"}],
    }
    assert routes
    for op in routes:
        assert op["security"] == [{"CognitoJwt": []}]
        integration = op["x-amazon-apigateway-integration"]
        assert integration["uri"]["Fn::Sub"].endswith("${ApiFunction.Arn}/invocations")


def test_http_api_cors_takes_the_listed_origins_and_logs_every_request(
    transformed: dict[str, Any], parameters: dict[str, str]
) -> None:
    # Given the API body and its default stage
    cors = props(transformed, "HttpApi")["Body"]["x-amazon-apigateway-cors"]
    (stage,) = resources(transformed, "AWS::ApiGatewayV2::Stage").values()
    origins = parameters.get("AllowedOrigins", "http://localhost:3000")
    # When the CORS origins and the stage's settings are read
    settings = stage["Properties"]
    # Then the origins are the parameter's list (not one comma-joined string), requests are
    # throttled by the parameters, and access logs go to the API's log group
    assert cors["allowOrigins"] == origins.split(",")
    assert settings["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
    }
    assert settings["AccessLogSettings"]["DestinationArn"] == {
        "Fn::GetAtt": ["HttpApiAccessLogs", "Arn"]
    }


def test_web_client_cannot_write_the_organization_and_has_no_secret(
    transformed: dict[str, Any],
) -> None:
    # Given the Cognito app client as CloudFormation receives it
    client = props(transformed, "UserPoolClient")
    # When its attribute permissions and flows are read
    # Then it reads custom:org_id but cannot write it, is a public client with SRP sign-in only
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    assert "custom:org_id" in client["ReadAttributes"]
    assert "custom:org_id" not in client["WriteAttributes"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}


def test_web_page_is_served_only_through_cloudfront_over_https(
    transformed: dict[str, Any],
) -> None:
    # Given the distribution and the web bucket's policy
    config = props(transformed, "WebDistribution")["DistributionConfig"]
    policy = props(transformed, "WebBucketPolicy")["PolicyDocument"]["Statement"]
    # When its origin, viewer protocol and the bucket's grants are read
    (origin,) = config["Origins"]
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    # Then the bucket is read through Origin Access Control by this distribution only, and
    # viewers are redirected to HTTPS
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "${WebDistribution}" in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]


def test_every_alarm_notifies_the_alarm_topic(transformed: dict[str, Any]) -> None:
    # Given every alarm and the optional e-mail subscription
    alarms = resources(transformed, "AWS::CloudWatch::Alarm")
    subscription = transformed["Resources"]["AlarmEmailSubscription"]
    # When their actions and the subscription's condition are read
    # Then each alarm watches a resource of this stack and notifies the topic, and the e-mail
    # subscription exists only when an address is given
    assert set(alarms) == {
        "StateMachineFailedAlarm",
        "JobsStateMachineFailedAlarm",
        "ModelValidationFailedAlarm",
        "ApiFunctionErrorsAlarm",
        "Api5xxAlarm",
        "ResetQuotaFunctionErrorsAlarm",
        "ResetQuotaDlqDepthAlarm",
    }
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        (dimension,) = alarm["Properties"]["Dimensions"]
        watched = dimension["Value"].get("Ref") or dimension["Value"]["Fn::GetAtt"][0]
        assert watched in transformed["Resources"], name
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}


def test_failed_monthly_resets_land_in_the_queue(transformed: dict[str, Any]) -> None:
    # Given the reset function's asynchronous invoke configuration and its role
    (config,) = resources(transformed, "AWS::Lambda::EventInvokeConfig").values()
    statements = list(role_statements(transformed, "ResetQuotaFunctionRole"))
    # When the failure destination and the role's SQS grant are read
    on_failure = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    # Then a reset that fails after Lambda's retries is sent to the DLQ, which the role may do
    assert config["Properties"]["FunctionName"] == {"Ref": "ResetQuotaFunction"}
    assert on_failure == {"Fn::GetAtt": ["ResetQuotaDlq", "Arn"]}
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": ["ResetQuotaDlq", "Arn"]}]


@pytest.mark.parametrize(
    "machine", ["PrelabelStateMachine", "JobsStateMachine", "ModelValidationStateMachine"]
)
def test_state_machine_logs_errors_without_execution_data(
    transformed: dict[str, Any], machine: str
) -> None:
    # Given a state machine and its role
    props_of = props(transformed, machine)
    statements = list(role_statements(transformed, f"{machine}Role"))
    log_group = props(transformed, f"{machine}Logs")
    # When its logging, tracing and the role's log-delivery grant are read
    logging = props_of["LoggingConfiguration"]
    delivery = [s for s in statements if set(as_list(s["Action"])) == LOG_DELIVERY_ACTIONS]
    # Then failures are logged to its own log group, without inputs and outputs (they carry
    # tenant ids), the role may set up the delivery, and executions are traced
    assert logging["Level"] == "ERROR"
    assert logging["IncludeExecutionData"] is False
    assert logging["Destinations"] == [
        {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [f"{machine}Logs", "Arn"]}}}
    ]
    assert len(delivery) == 1 and delivery[0]["Resource"] == "*"
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert props_of["TracingConfiguration"] == {"Enabled": True}


def test_job_step_writes_only_exports_and_reviewed_files_the_api_starts_only_its_machines(
    transformed: dict[str, Any],
) -> None:
    # Given the job step's and the API's roles
    step = list(role_statements(transformed, "JobStepFunctionRole"))
    api = list(role_statements(transformed, "ApiFunctionRole"))
    # When their S3 writes and Step Functions starts are read
    writes = [s for s in step if set(as_list(s["Action"])) & {"s3:PutObject", "s3:DeleteObject"}]
    starts = [s["Resource"]["Fn::Sub"] for s in api if s["Action"] == "states:StartExecution"]
    on_data = [s for s in api if "DataBucket" in str(s.get("Resource"))]
    api_data_s3 = {a for s in on_data for a in as_list(s["Action"]) if a.startswith("s3:")}
    api_puts = [s["Resource"] for s in api if "s3:PutObject" in as_list(s["Action"])]
    # Then the step writes (multipart, abortable) under exports/, its working files (written,
    # then removed) under each organization's reviewed/ folder, and under jobs/ the plans of
    # sliced jobs and the parts an export's slices write (deleted once spliced), nothing else
    reviewed = {"Fn::Sub": "${DataBucket.Arn}/*/reviewed/*"}
    assert [(set(as_list(s["Action"])), s["Resource"]) for s in writes] == [
        ({"s3:PutObject", "s3:AbortMultipartUpload"}, {"Fn::Sub": "${DataBucket.Arn}/exports/*"}),
        ({"s3:PutObject", "s3:DeleteObject"}, reviewed),
        (
            {"s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"},
            {"Fn::Sub": "${DataBucket.Arn}/jobs/*"},
        ),
    ]
    # And the API starts the pre-labeling and the jobs machines of this stack, reads (signs)
    # objects and signs uploads only under the organizations' reviewed/ folders: it neither
    # lists nor writes S3 itself
    assert sorted(starts) == sorted(
        [
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
            "${AWS::StackName}-prelabel",
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
            "${AWS::StackName}-jobs",
            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
            "${AWS::StackName}-model-validation",
        ]
    )
    # And of the data bucket it reads (signs) objects and signs the reviewed-labels upload
    # form; the one other write it signs is a model upload form, under the models bucket's
    # uploads/
    assert api_data_s3 == {"s3:GetObject", "s3:PutObject"}
    assert api_puts == [reviewed, {"Fn::Sub": "${ModelsBucket.Arn}/uploads/*"}]


def test_data_bucket_takes_posts_from_the_pages_origins_only(transformed: dict[str, Any]) -> None:
    # Given the data bucket's CORS rules
    rules = props(transformed, "DataBucket")["CorsConfiguration"]["CorsRules"]
    # Then browsers may POST (the presigned upload form) from the API's allowed origins only
    assert [(r["AllowedMethods"], r["AllowedOrigins"]) for r in rules] == [
        (["POST"], {"Ref": "AllowedOrigins"})
    ]


ENDPOINT_ARN = (
    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/"
    "${DetectorEndpointName}"
)
MODELS_ARN = (
    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/"
    "${ModelsEndpointName}"
)


def test_only_prepare_reads_the_endpoints_capacity_and_only_the_worker_invokes_it(
    transformed: dict[str, Any],
) -> None:
    # Given every function's role
    grants = {
        function: [
            (sorted(as_list(s["Action"])), s["Resource"])
            for s in role_statements(transformed, f"{function}Role")
            if any(a.startswith("sagemaker:") for a in as_list(s["Action"]))
        ]
        for function in FUNCTIONS
    }
    # When their SageMaker grants are read
    # Then Prepare describes the detector endpoint and reads its tags (to size the run), the
    # worker invokes it and the organizations' models endpoint; no other function touches
    # SageMaker
    assert grants == {
        **{function: [] for function in FUNCTIONS},
        "PrepareFunction": [
            (["sagemaker:DescribeEndpoint", "sagemaker:ListTags"], {"Fn::Sub": ENDPOINT_ARN})
        ],
        "LabelBatchFunction": [
            (["sagemaker:InvokeEndpoint"], [{"Fn::Sub": ENDPOINT_ARN}, {"Fn::Sub": MODELS_ARN}])
        ],
    }
    # And the worker's reserved concurrency is what bounds each run's (unless told not to)
    worker = props(transformed, "LabelBatchFunction")
    prepare_env = props(transformed, "PrepareFunction")["Environment"]["Variables"]
    assert prepare_env["MAX_CONCURRENCY"] == {"Ref": "LabelBatchConcurrency"}
    assert worker["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveWorkers", {"Ref": "LabelBatchConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def test_functions_run_arm64_with_the_layer_and_active_tracing(transformed: dict[str, Any]) -> None:
    # Given every function and the layer
    functions = resources(transformed, "AWS::Lambda::Function")
    (layer_id,) = resources(transformed, "AWS::Lambda::LayerVersion")
    # When runtime, architecture, layers and tracing are read
    # Then each runs python3.12 on arm64 with the prelabel layer (the model validation
    # function as an image, which carries its own), traced by X-Ray
    assert set(functions) == set(FUNCTIONS)
    for name, fn in functions.items():
        p = fn["Properties"]
        assert p["Architectures"] == ["arm64"], name
        assert p["TracingConfig"] == {"Mode": "Active"}, name
        if p.get("PackageType") == "Image":
            assert p["ImageConfig"] == {"Command": ["app.handler"]}, name
            assert "Runtime" not in p and "Layers" not in p, name
            continue
        assert p["Runtime"] == "python3.12", name
        assert p["Layers"] == [{"Ref": layer_id}], name


def test_data_and_web_buckets_log_access_to_the_log_bucket(transformed: dict[str, Any]) -> None:
    # Given the data and web buckets and the log bucket
    data = props(transformed, "DataBucket")
    web = props(transformed, "WebBucket")
    logs = props(transformed, "AccessLogBucket")
    # When their logging, encryption and versioning are read
    # Then every object access of both lands in the log bucket under its own prefix; the log
    # bucket is SSE-S3 (log delivery writes no KMS objects), versioned, and expires logs
    assert data["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "data/",
    }
    assert web["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": "AccessLogBucket"},
        "LogFilePrefix": "web/",
    }
    encryption = logs["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption == [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert logs["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = logs["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "AccessLogRetentionDays"}
