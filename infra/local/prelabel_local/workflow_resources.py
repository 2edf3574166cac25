"""The state machines of template.yaml, created in moto with the template's own substitutions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from prelabel_local.lambdas import ACCOUNT, LambdaRunner, function_arn, load_handler

# The only allowed difference from the deployed definition (moto runs no EXPRESS children).
LOCAL_OVERRIDES = {"ChildExecutionType": "STANDARD"}


def enable_step_functions_execution(moto_endpoint: str) -> None:
    reply = requests.post(
        f"{moto_endpoint}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}},
        timeout=10,
    )
    reply.raise_for_status()


PRELABEL_MACHINE = "PrelabelStateMachine"
JOBS_MACHINE = "JobsStateMachine"
MODEL_VALIDATION_MACHINE = "ModelValidationStateMachine"


def state_machine_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> properties of every state machine of the template."""
    machines = {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::StateMachine"
    }
    if not machines:
        raise LookupError("template.yaml defines no AWS::Serverless::StateMachine")
    return machines


def state_machine_resource(
    template: dict[str, Any], logical_id: str = PRELABEL_MACHINE
) -> tuple[str, dict[str, Any]]:
    machines = state_machine_resources(template)
    if logical_id not in machines:
        raise LookupError(f"template.yaml defines no state machine {logical_id}")
    return logical_id, machines[logical_id]


def workflow_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> properties of each function a state machine's definition names."""
    names = {}
    for props in state_machine_resources(template).values():
        for value in props.get("DefinitionSubstitutions", {}).values():
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                logical = target[0] if isinstance(target, list) else str(target).split(".")[0]
                names[logical] = template["Resources"][logical]["Properties"]
    return names


def local_definition(
    root: Path, template: dict[str, Any], logical_id: str = PRELABEL_MACHINE
) -> str:
    _, props = state_machine_resource(template, logical_id)
    text: str = (root / str(props["DefinitionUri"])).read_text()
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        if key in LOCAL_OVERRIDES:
            local = LOCAL_OVERRIDES[key]
        elif isinstance(value, dict) and "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            local = function_arn(target[0] if isinstance(target, list) else target.split(".")[0])
        elif isinstance(value, str | int | float):
            local = str(value)
        else:
            raise ValueError(f"no local value for substitution {key}: {value!r}")
        text = text.replace("${" + key + "}", local)
    json.loads(text)  # every placeholder filled: still valid JSON
    return text


def handler_location(template: dict[str, Any], logical_id: str) -> tuple[str, str]:
    """(code folder, "module.function") of a function: a zip function's CodeUri and Handler,
    or an image function's Dockerfile folder and its command (what the image runs)."""
    resource = template["Resources"][logical_id]
    props = resource["Properties"]
    if props.get("PackageType") == "Image":
        folder = str(Path(resource["Metadata"]["Dockerfile"]).parent)
        return folder, str(props["ImageConfig"]["Command"][0])
    globals_fn = template.get("Globals", {}).get("Function", {})
    return str(props["CodeUri"]), str(
        props.get("Handler", globals_fn.get("Handler", "app.handler"))
    )


def register_functions(root: Path, template: dict[str, Any], runner: LambdaRunner) -> None:
    for logical_id in workflow_functions(template):
        code_uri, handler = handler_location(template, logical_id)
        runner.register(logical_id, load_handler(root, code_uri, handler))


def create_state_machine(
    sfn: Any,
    root: Path,
    template: dict[str, Any],
    name: str,
    logical_id: str = PRELABEL_MACHINE,
) -> str:
    """The template's state machine `logical_id` in moto (execution must be switched on first,
    or moto creates it where nothing runs it)."""
    reply = sfn.create_state_machine(
        name=name,
        definition=local_definition(root, template, logical_id),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/prelabel-local",
    )
    return str(reply["stateMachineArn"])


def stop_from_console(sfn: Any, lambda_client: Any, execution_arn: str) -> dict[str, Any]:
    """What a stop in the AWS console sets off: StopExecution, then the EventBridge rule of
    template.yaml delivering the ABORTED status change to the Finish function.

    moto reports an execution ABORTED only once its in-flight Map iterations return, while AWS
    does at once and fires the rule; so the local stack sends the rule's event itself.
    """
    sfn.stop_execution(executionArn=execution_arn, cause="stopped from the console")
    execution = sfn.describe_execution(executionArn=execution_arn)
    event = {
        "version": "0",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": {
            "executionArn": execution_arn,
            "name": execution["name"],
            "status": "ABORTED",
            "input": execution.get("input", "{}"),
        },
    }
    reply = lambda_client.invoke(
        FunctionName=function_arn("FinishFunction"), Payload=json.dumps(event)
    )
    result: dict[str, Any] = json.loads(reply["Payload"].read())
    return result
