"""template.yaml as CloudFormation receives it: packaged and run through the SAM transform offline.

CloudFormation never sees template.yaml itself. `sam package` replaces local code and definition
paths by S3 locations, then the AWS::Serverless transform (samtranslator, the same library SAM
CLI and the service run) expands functions, APIs and policy templates. Linting and deploying
the output checks what a real deployment gets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
ARTIFACT_BUCKET = "prelabel-artifacts"
# Where `sam package --image-repository` pushes container image functions.
IMAGE_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prelabel"

# Both values of every parameter a condition depends on, plus a list of origins for the
# parameter the transform itself resolves (CorsConfiguration). The conditions are independent
# of each other, so two sets cover every branch.
PARAMETER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "alternates": {
        "DatasetBuckets": "prelabel-datasets-a,prelabel-datasets-b",
        "AlarmEmail": "alarms@example.com",
        "DeletionProtection": "false",
        "AllowedOrigins": "https://app.example.com,https://labels.example.com",
    },
}

# Where `sam package` uploads each kind of local artifact: (resource type, property, suffix).
PACKAGED_PROPERTIES = (
    ("AWS::Serverless::Function", "CodeUri", ".zip"),
    ("AWS::Serverless::LayerVersion", "ContentUri", ".zip"),
    ("AWS::Serverless::StateMachine", "DefinitionUri", ".asl.json"),
)


def load_sam_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """Plain dicts and strings (cfn_yaml's nodes carry line marks that samtranslator copies)."""
    loaded = json.loads(json.dumps(cfn_yaml.load(str(path))))
    assert isinstance(loaded, dict)
    return loaded


def package(template: dict[str, Any], bucket: str = ARTIFACT_BUCKET) -> dict[str, Path]:
    """Point every local artifact at `s3://bucket/<LogicalId><suffix>`, as `sam package` does.

    Returns S3 key -> local path (a folder for code, the ASL file for a definition).
    """
    artifacts: dict[str, Path] = {}
    for logical_id, resource in template["Resources"].items():
        for kind, prop, suffix in PACKAGED_PROPERTIES:
            props = resource.get("Properties", {})
            if resource["Type"] == kind and isinstance(props.get(prop), str):
                key = f"{logical_id}{suffix}"
                artifacts[key] = ROOT / props[prop]
                props[prop] = f"s3://{bucket}/{key}"
        props = resource.get("Properties", {})
        if props.get("PackageType") == "Image" and "ImageUri" not in props:
            # Built by `sam build` from the resource's Metadata (Dockerfile), pushed to ECR.
            props["ImageUri"] = f"{IMAGE_REPOSITORY}:{logical_id.lower()}-python3.12-arm64"
    return artifacts


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Every parameter's value as CloudFormation hands it to the transform: lists as lists."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = str(overrides.get(name, spec.get("Default", "")))
        values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw
    unknown = set(overrides) - set(values)
    assert not unknown, f"not parameters of the template: {sorted(unknown)}"
    return values


class NoManagedPolicies:
    """The managed-policy loader, offline. The template names no managed policy by name (a unit
    test keeps it so), and the policies SAM adds itself are ARNs it builds without IAM; a
    lookup here means the template changed, so it fails instead of guessing an ARN."""

    def load(self) -> dict[str, str]:
        return {}


def transform(
    template: dict[str, Any], parameters: dict[str, Any], region: str = "us-east-1"
) -> dict[str, Any]:
    """samtranslator's own `transform()`, with the region given instead of read from the
    environment (pseudo parameters such as AWS::Partition come from it)."""
    to_py27_compatible_template(template, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    policies = NoManagedPolicies()
    output = translator.translate(template, parameters, get_managed_policy_map=policies.load)
    translator.metrics.publish()  # to its offline dummy publisher; unpublished ones warn at exit
    result = undo_mark_unicode_str_in_template(output)
    assert isinstance(result, dict)
    return result


def transformed_template(
    overrides: dict[str, str], path: Path = TEMPLATE, bucket: str = ARTIFACT_BUCKET
) -> tuple[dict[str, Any], dict[str, Path]]:
    """The packaged template transformed with `overrides` on top of the parameters' defaults,
    and the artifacts to upload (S3 key -> local path)."""
    template = load_sam_template(path)
    artifacts = package(template, bucket)
    values = parameter_values(template, overrides)
    return transform(template, values), artifacts
