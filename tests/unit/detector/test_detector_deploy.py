"""Deployment, offline: the artifact it builds and the AWS requests it would send."""

from __future__ import annotations

import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from prelabel_detector.artifact import build_artifact
from prelabel_detector.deploy import EndpointPlan, delete_if_idle, deploy
from prelabel_detector.descriptor import bundled

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
PLAN = EndpointPlan(
    endpoint_name="prelabel-detector",
    model_data_url="s3://bucket/prelabel-detector/v1/model.tar.gz",
    role_arn="arn:aws:iam::123456789012:role/sagemaker",
    image_uri="123.dkr.ecr.us-east-1.amazonaws.com/inference:latest",
    max_instances=3,
    target_invocations=150.0,
)


def client(service: str) -> object:
    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    ).client(service)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifact") / "model.tar.gz"
    return build_artifact(bundled("ssd_mobilenet_v2_coco.json"), out)


def test_artifact_holds_descriptor_weights_and_code(artifact: Path) -> None:
    # Given the artifact built for the default SSD model
    # When its members are listed
    with tarfile.open(artifact) as tar:
        names = set(tar.getnames())
        descriptor = json.loads(tar.extractfile("descriptor.json").read())  # type: ignore[union-attr]
        inference = tar.extractfile("code/inference.py").read().decode()  # type: ignore[union-attr]
    # Then it has the descriptor with local weight names, the weights, and the server code
    assert "weights_package" not in descriptor
    assert descriptor["weights"] == {
        "model": "frozen_inference_graph.pb",
        "config": "ssd_mobilenet_v2_coco_2018_03_29.pbtxt",
    }
    assert {"frozen_inference_graph.pb", "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"} <= names
    assert {
        "code/inference.py",
        "code/requirements.txt",
        "code/prelabel_detector/handler.py",
        "code/prelabel/detector_wire.py",
        "code/prelabel_detector/backends/ssd_tf.py",
    } <= names
    assert "model_fn" in inference
    assert not any("__pycache__" in n for n in names)


def test_artifact_loads_as_a_model_dir(artifact: Path, tmp_path: Path) -> None:
    # Given the artifact unpacked as SageMaker does into /opt/ml/model
    with tarfile.open(artifact) as tar:
        tar.extractall(tmp_path, filter="data")
    # When model_fn loads it
    from prelabel_detector.handler import model_fn

    model = model_fn(str(tmp_path))
    # Then the descriptor finds its weights inside the folder
    assert model.descriptor.name == "ssd-mobilenet-v2-coco"
    assert str(model.descriptor.weights["model"]).startswith(str(tmp_path))


def test_deploy_sends_model_config_endpoint_then_autoscaling() -> None:
    # Given stubbed SageMaker and Application Auto Scaling clients expecting the full sequence
    sagemaker, autoscaling = client("sagemaker"), client("application-autoscaling")
    sm, aas = Stubber(sagemaker), Stubber(autoscaling)
    name = "prelabel-detector-v1"
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/prelabel-detector"
    sm.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/x"},
        {
            "ModelName": name,
            "ExecutionRoleArn": PLAN.role_arn,
            "PrimaryContainer": {
                "Image": PLAN.image_uri,
                "ModelDataUrl": PLAN.model_data_url,
                "Environment": {
                    "SAGEMAKER_PROGRAM": "inference.py",
                    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                },
            },
        },
    )
    sm.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x"},
        {
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InstanceType": "ml.g4dn.xlarge",
                    "InitialInstanceCount": 1,
                }
            ],
        },
    )
    sm.add_response(
        "create_endpoint",
        {"EndpointArn": arn},
        {"EndpointName": "prelabel-detector", "EndpointConfigName": name},
    )
    described = {
        "EndpointName": "prelabel-detector",
        "EndpointArn": arn,
        "EndpointConfigName": name,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    for status in ("Creating", "InService"):
        sm.add_response(
            "describe_endpoint",
            {**described, "EndpointStatus": status},
            {"EndpointName": "prelabel-detector"},
        )
    resource = "endpoint/prelabel-detector/variant/AllTraffic"
    aas.add_response(
        "register_scalable_target",
        {},
        {
            "ServiceNamespace": "sagemaker",
            "ResourceId": resource,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "MinCapacity": 1,
            "MaxCapacity": 3,
        },
    )
    aas.add_response(
        "put_scaling_policy",
        {"PolicyARN": "arn:policy"},
        {
            "PolicyName": "prelabel-detector-invocations",
            "ServiceNamespace": "sagemaker",
            "ResourceId": resource,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 150.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": ANY,
                "ScaleOutCooldown": ANY,
            },
        },
    )
    # When the endpoint is deployed
    with sm, aas:
        result = deploy(PLAN, sagemaker, autoscaling, suffix="v1", poll_seconds=0)
        # Then every expected request was sent, in this order, and nothing else
        sm.assert_no_pending_responses()
        aas.assert_no_pending_responses()
    assert result == arn


@pytest.mark.parametrize(("invocations", "deleted"), [([], True), ([0.0, 3.0], False)])
def test_delete_if_idle_deletes_only_without_invocations(
    invocations: list[float], deleted: bool
) -> None:
    # Given CloudWatch reporting the endpoint's invocations over the idle window
    sagemaker, cloudwatch = client("sagemaker"), client("cloudwatch")
    sm, cw = Stubber(sagemaker), Stubber(cloudwatch)
    points = [{"Timestamp": NOW, "Sum": value, "Unit": "None"} for value in invocations]
    cw.add_response(
        "get_metric_statistics",
        {"Label": "Invocations", "Datapoints": points},
        {
            "Namespace": "AWS/SageMaker",
            "MetricName": "Invocations",
            "Dimensions": [
                {"Name": "EndpointName", "Value": "prelabel-detector"},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            "StartTime": ANY,
            "EndTime": NOW,
            "Period": 3600,
            "Statistics": ["Sum"],
        },
    )
    if deleted:
        sm.add_response("delete_endpoint", {}, {"EndpointName": "prelabel-detector"})
    # When the idle check runs
    with sm, cw:
        result = delete_if_idle("prelabel-detector", 60, sagemaker, cloudwatch, NOW)
        # Then the endpoint is deleted exactly when nothing called it
        sm.assert_no_pending_responses()
        cw.assert_no_pending_responses()
    assert result is deleted
