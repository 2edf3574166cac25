"""What moto's CloudFormation lacks for template.yaml's transformed output, patched in for a deploy.

Written against moto 5.2.5 and checked to be needed there (MOTO_VERSION): the deploy test says
so when moto changes, so each shim can be dropped once moto does the job itself. Each shim does
what real CloudFormation does, no more; resources moto has no model for at all (HTTP API,
Cognito, CloudFront, alarms, Lambda EventInvokeConfig, SNS subscriptions) are not emulated
here and are asserted on the transformed JSON instead.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudformation import parsing
from moto.s3.models import s3_backends
from moto.scheduler.models import scheduler_backends
from moto.stepfunctions.models import StateMachine
from moto.utilities.utils import get_partition

MOTO_VERSION = "5.2.5"


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    """moto's clean_json with two fixes.

    1. A list item that resolves to AWS::NoValue (`!If [cond, x, !Ref AWS::NoValue]` in a
       role's policy list) is dropped, as CloudFormation drops it; moto keeps a None that
       crashes the IAM role (HTTP 500).
    2. Fn::GetAtt on a declared resource of a type moto does not create (the CloudFront
       distribution's DomainName in Outputs) yields a marker string; CloudFormation yields the
       attribute, moto raises "references undefined resource".
    """
    if isinstance(resource_json, list):
        kept = [item for item in resource_json if not _is_no_value(item, resources_map)]
        return [parsing.clean_json(item, resources_map) for item in kept]
    if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
        logical_id, attribute = resource_json["Fn::GetAtt"][:2]
        declared = resources_map._resource_json_map.get(logical_id)
        if declared and _ORIGINAL_CLASS_FROM_TYPE(declared["Type"]) is None:
            return f"not-emulated:{logical_id}.{attribute}"
    return _ORIGINAL_CLEAN_JSON(resource_json, resources_map)


def _is_no_value(item: Any, resources_map: Any) -> bool:
    if item == {"Ref": "AWS::NoValue"}:
        return True
    if isinstance(item, dict) and "Fn::If" in item:
        condition, when_true, when_false = item["Fn::If"]
        chosen = when_true if resources_map.lazy_condition_map[condition] else when_false
        return _is_no_value(chosen, resources_map)
    return False


def _create_state_machine(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> StateMachine:
    """CloudFormation reads DefinitionS3Location (where `sam package` put the ASL file) and
    replaces each `${key}` of DefinitionSubstitutions; moto reads only DefinitionString."""
    props = cloudformation_json["Properties"]
    location = props.pop("DefinitionS3Location", None)
    if location is not None:
        s3 = s3_backends[account_id][get_partition(region_name)]
        key = s3.get_object(location["Bucket"], location["Key"])
        assert key is not None, f"no definition at {location}"
        definition = key.value.decode()
        for name, value in props.pop("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(value))
        props["DefinitionString"] = definition
    machine: StateMachine = _ORIGINAL_CREATE_STATE_MACHINE(
        resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    return machine


class _Created:
    """A resource moto's stack has no model for: made as CloudFormation makes it, by `create`
    from the resolved properties, which answers the physical id."""

    def __init__(self, physical_id: str) -> None:
        self.physical_resource_id = physical_id

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **_: Any,
    ) -> _Created:
        props = cloudformation_json["Properties"]
        return cls(cls.create(resource_name, props, account_id, region_name))

    @staticmethod
    def create(resource_name: str, props: dict[str, Any], account_id: str, region: str) -> str:
        raise NotImplementedError


class _BucketPolicy(_Created):
    """AWS::S3::BucketPolicy: CloudFormation calls PutBucketPolicy with the resolved document;
    moto 5.2.5 has no model for it, so the policy never reached the bucket."""

    @staticmethod
    def create(resource_name: str, props: dict[str, Any], account_id: str, region: str) -> str:
        document = json.dumps(props["PolicyDocument"]).encode()
        s3_backends[account_id][get_partition(region)].put_bucket_policy(props["Bucket"], document)
        return str(props["Bucket"])


class _Schedule(_Created):
    """AWS::Scheduler::Schedule: CloudFormation calls CreateSchedule with the same fields; moto
    5.2.5 has the Scheduler API but no CloudFormation model for it."""

    @staticmethod
    def create(resource_name: str, props: dict[str, Any], account_id: str, region: str) -> str:
        schedule = scheduler_backends[account_id][region].create_schedule(
            description=props.get("Description", ""),
            end_date=props.get("EndDate"),
            flexible_time_window=props["FlexibleTimeWindow"],
            group_name=props.get("GroupName", "default"),
            kms_key_arn=props.get("KmsKeyArn"),
            name=props.get("Name", resource_name),
            schedule_expression=props["ScheduleExpression"],
            schedule_expression_timezone=props.get("ScheduleExpressionTimezone", "UTC"),
            start_date=props.get("StartDate"),
            state=props.get("State", "ENABLED"),
            target=props["Target"],
            action_after_completion=None,
        )
        return str(schedule.arn)


SHIMMED_TYPES: dict[str, Any] = {
    "AWS::S3::BucketPolicy": _BucketPolicy,
    "AWS::Scheduler::Schedule": _Schedule,
}

_ORIGINAL_CLEAN_JSON = parsing.clean_json
_ORIGINAL_CLASS_FROM_TYPE = parsing.resource_class_from_type
_ORIGINAL_CREATE_STATE_MACHINE = StateMachine.create_from_cloudformation_json
_STATE_MACHINE_DESCRIPTOR = vars(StateMachine)["create_from_cloudformation_json"]


def _class_from_type(resource_type: str) -> Any:
    return SHIMMED_TYPES.get(resource_type) or _ORIGINAL_CLASS_FROM_TYPE(resource_type)


@contextmanager
def moto_cloudformation_shims() -> Iterator[None]:
    """Patch moto (in this process, where the test's moto server runs) while a stack deploys."""
    parsing.clean_json = _clean_json
    parsing.resource_class_from_type = _class_from_type
    StateMachine.create_from_cloudformation_json = staticmethod(_create_state_machine)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        parsing.clean_json = _ORIGINAL_CLEAN_JSON
        parsing.resource_class_from_type = _ORIGINAL_CLASS_FROM_TYPE
        StateMachine.create_from_cloudformation_json = _STATE_MACHINE_DESCRIPTOR  # type: ignore[method-assign]


def policy_document(raw: Any) -> dict[str, Any]:
    """A role's inline policy as IAM returns it: a JSON document. moto 5.2.5 stores the ones a
    stack created as the Python repr of the dict, which boto3 hands back as a string."""
    if isinstance(raw, dict):
        return raw
    try:
        document = json.loads(raw)
    except json.JSONDecodeError:
        document = ast.literal_eval(raw)
    assert isinstance(document, dict)
    return document
