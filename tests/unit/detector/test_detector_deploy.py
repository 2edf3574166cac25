"""Deployment through the SageMaker SDK (sagemaker-core), offline against moto's AWS.

The SDK's resource classes build their clients from the boto3 session they are given, so the
session created inside moto's mock reaches moto's SageMaker, Application Auto Scaling,
CloudWatch and S3, which keep state: what a test reads back is what the calls created.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

pytest.importorskip("sagemaker.core", reason="sagemaker-core is not installed (the `deploy` extra)")
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.sagemaker.models import sagemaker_backends

from prelabel_detector.deploy import (
    DEFAULT_MME_INSTANCE_TYPE,
    EndpointPlan,
    _parser,
    _plan,
    delete_if_idle,
    deploy,
    main,
)

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker"
RESOURCE = "endpoint/prelabel-detector/variant/AllTraffic"
# moto 5.2.5 still validates instance types against a list without g5/g6; g4dn is a GPU type
# it knows, which is all these tests need from the parameter.
GPU_TYPE = "ml.g4dn.2xlarge"


def _drop_empty_structures(parsed: dict[str, Any], **_: Any) -> None:
    # moto answers unset structures (VpcConfig, DataCaptureConfig, ...) as {} where AWS leaves
    # them out, and the SDK's pydantic shapes refuse {} for members they require.
    for key in [k for k, v in parsed.items() if v == {}]:
        del parsed[key]
    for value in parsed.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                _drop_empty_structures(item)


def _update_endpoint(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    # moto 5.2.5 has no UpdateEndpoint. This answers it from moto's own state as AWS would:
    # the existing endpoint switches to an existing config (unknown names raise, as in AWS).
    request = json.loads(params["body"])
    backend = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION]
    endpoint = backend.endpoints[request["EndpointName"]]
    config = backend.endpoint_configs[request["EndpointConfigName"]]
    endpoint.endpoint_config_name = config.endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.last_modified_time = utcnow()
    return AWSResponse("https://sagemaker", 200, {}, None), {"EndpointArn": endpoint.arn}


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        aws = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
        )
        aws.events.register("after-call.sagemaker", _drop_empty_structures)
        aws.events.register("before-call.sagemaker.UpdateEndpoint", _update_endpoint)
        yield aws
    from sagemaker.core.utils.utils import SageMakerClient

    SageMakerClient.reset()


def plan(**changes: Any) -> EndpointPlan:
    values: dict[str, Any] = {
        "endpoint_name": "prelabel-detector",
        "model_data_url": "s3://bucket/prelabel-detector/v1/model.tar.gz",
        "role_arn": ROLE,
        "image_uri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6-gpu-py312",
        "instance_type": GPU_TYPE,
        "max_instances": 3,
        "target_invocations": 900.0,
        "workers": 2,
    }
    return EndpointPlan(**{**values, **changes})


def test_deploy_creates_model_config_endpoint_and_autoscaling(
    session: boto3.session.Session,
) -> None:
    # Given an artifact in S3 and a plan for a GPU instance type
    sagemaker = session.client("sagemaker")
    # When the endpoint is deployed
    arn = deploy(plan(), session, suffix="v1", poll_seconds=0)
    # Then the model runs the container on the artifact with the inference entry point
    model = sagemaker.describe_model(ModelName="prelabel-detector-v1")
    assert model["ExecutionRoleArn"] == ROLE
    container = model["PrimaryContainer"]
    assert container["ModelDataUrl"] == "s3://bucket/prelabel-detector/v1/model.tar.gz"
    assert container["Image"].endswith("pytorch-inference:2.6-gpu-py312")
    assert container["Environment"] == {
        "SAGEMAKER_PROGRAM": "inference.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
    }
    # and the endpoint serves it on the chosen instance type
    endpoint = sagemaker.describe_endpoint(EndpointName="prelabel-detector")
    assert endpoint["EndpointArn"] == arn
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == "prelabel-detector-v1"
    config = sagemaker.describe_endpoint_config(EndpointConfigName="prelabel-detector-v1")
    (variant,) = config["ProductionVariants"]
    assert (variant["VariantName"], variant["ModelName"]) == ("AllTraffic", "prelabel-detector-v1")
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == (GPU_TYPE, 1)
    # and the variant scales between 1 and 3 instances on invocations per instance
    autoscaling = session.client("application-autoscaling")
    (target,) = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (RESOURCE, 1, 3)
    (policy,) = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")[
        "ScalingPolicies"
    ]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 900.0
    assert (
        tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
        == "SageMakerVariantInvocationsPerInstance"
    )


def test_redeploy_moves_the_endpoint_to_the_new_model(session: boto3.session.Session) -> None:
    # Given an endpoint deployed once
    deploy(plan(), session, suffix="v1", poll_seconds=0)
    # When a new artifact is deployed under the same endpoint name with other limits
    deploy(
        plan(model_data_url="s3://bucket/prelabel-detector/v2/model.tar.gz", max_instances=6),
        session,
        suffix="v2",
        poll_seconds=0,
    )
    # Then the same endpoint now uses the new config, whose model points at the new artifact
    sagemaker = session.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="prelabel-detector")
    assert endpoint["EndpointConfigName"] == "prelabel-detector-v2"
    model = sagemaker.describe_model(ModelName="prelabel-detector-v2")
    assert model["PrimaryContainer"]["ModelDataUrl"].endswith("/v2/model.tar.gz")
    assert len(sagemaker.list_endpoints()["Endpoints"]) == 1
    # and autoscaling was registered again with the new limits, once
    targets = session.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert [(t["ResourceId"], t["MaxCapacity"]) for t in targets] == [(RESOURCE, 6)]


@pytest.mark.parametrize(("calls", "outcome"), [(0, "deleted"), (5, "kept: in use")])
def test_delete_if_idle_deletes_only_an_endpoint_nobody_called(
    session: boto3.session.Session, calls: int, outcome: str
) -> None:
    # Given a deployed endpoint, looked at two hours later, with or without invocations since
    deploy(plan(), session, suffix="v1", poll_seconds=0)
    later = datetime.now(UTC) + timedelta(hours=2)
    if calls:
        session.client("cloudwatch").put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": "prelabel-detector"},
                        {"Name": "VariantName", "Value": "AllTraffic"},
                    ],
                    "Timestamp": later - timedelta(minutes=10),
                    "Value": float(calls),
                }
            ],
        )
    # When the idle check runs over the last hour
    result = delete_if_idle("prelabel-detector", 60, session, later)
    # Then the endpoint is deleted exactly when nothing called it, model and config stay
    sagemaker = session.client("sagemaker")
    assert result == outcome
    names = [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]]
    assert names == ([] if outcome == "deleted" else ["prelabel-detector"])
    assert sagemaker.describe_endpoint_config(EndpointConfigName="prelabel-detector-v1")
    assert sagemaker.describe_model(ModelName="prelabel-detector-v1")
    # and a deleted endpoint leaves no scalable target behind
    targets = session.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert len(targets) == (0 if outcome == "deleted" else 1)


def test_delete_if_idle_keeps_an_endpoint_younger_than_the_window(
    session: boto3.session.Session,
) -> None:
    # Given an endpoint deployed just now, with no invocation yet
    deploy(plan(), session, suffix="v1", poll_seconds=0)
    # When the idle check runs right away
    result = delete_if_idle("prelabel-detector", 60, session, datetime.now(UTC))
    # Then it is kept: no traffic yet is not idleness
    assert result == "kept: changed within the window"
    assert session.client("sagemaker").list_endpoints()["Endpoints"]


def test_delete_if_idle_reports_a_missing_endpoint(session: boto3.session.Session) -> None:
    # Given no endpoint at all
    # When the idle check runs
    result = delete_if_idle("prelabel-detector", 60, session, datetime.now(UTC))
    # Then it says so instead of failing
    assert result == "absent"


def test_cli_uploads_the_artifact_and_deploys_the_pytorch_container(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    # Given a packaged artifact on disk and a bucket
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"tarball")
    session.client("s3").create_bucket(Bucket="models")
    # When the deploy command runs with a GPU instance type and no image named
    argv = ["deploy", "--artifact", str(artifact), "--bucket", "models", "--role-arn", ROLE]
    argv += ["--instance-type", GPU_TYPE, "--max-instances", "2"]
    main(argv, session=session)
    # Then the artifact is in S3 where the model points
    sagemaker = session.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="prelabel-detector")
    model = sagemaker.describe_model(ModelName=endpoint["EndpointConfigName"])
    url = model["PrimaryContainer"]["ModelDataUrl"]
    bucket, key = url.removeprefix("s3://").split("/", 1)
    assert session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"tarball"
    # and the image is the SDK's PyTorch inference container for the region, GPU build
    image = model["PrimaryContainer"]["Image"]
    assert image.startswith("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:")
    assert "gpu-py312" in image


MME_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/prelabel-detector-mme:1"
# moto 5.2.5's endpoint configs know no c6i/c7i; c5 is a CPU type it knows.
CPU_TYPE = "ml.c5.2xlarge"


def test_multi_model_deploy_points_the_container_at_the_models_prefix(
    session: boto3.session.Session,
) -> None:
    # Given a plan for one endpoint serving every model under an S3 prefix, on a CPU type
    mme = plan(
        mode="MultiModel",
        model_data_url="s3://models/endpoint/",
        image_uri=MME_IMAGE,
        instance_type=CPU_TYPE,
        memory_budget_mb=9000,
        threads=4,
        workers=None,
    )
    # When it is deployed
    deploy(mme, session, suffix="v1", poll_seconds=0)
    # Then the model's container runs our image in MultiModel mode on the prefix, caching
    # artifacts on the instance, with the store's memory budget and no PyTorch entry point
    container = session.client("sagemaker").describe_model(ModelName="prelabel-detector-v1")[
        "PrimaryContainer"
    ]
    assert container["Mode"] == "MultiModel"
    assert container["ModelDataUrl"] == "s3://models/endpoint/"
    assert container["Image"] == MME_IMAGE
    assert container["MultiModelConfig"] == {"ModelCacheSetting": "Enabled"}
    assert container["Environment"] == {
        "PRELABEL_DETECTOR_MEMORY_MB": "9000",
        "PRELABEL_DETECTOR_THREADS": "4",
    }
    variant = session.client("sagemaker").describe_endpoint_config(
        EndpointConfigName="prelabel-detector-v1"
    )["ProductionVariants"][0]
    assert variant["InstanceType"] == CPU_TYPE


def test_multi_model_prefix_must_be_a_folder(session: boto3.session.Session) -> None:
    # Given a multi-model plan whose model data URL names one object
    mme = plan(mode="MultiModel", model_data_url="s3://models/one.tar.gz", image_uri=MME_IMAGE)
    # When it is deployed
    # Then nothing is created: SageMaker needs the prefix TargetModel keys hang under
    with pytest.raises(ValueError, match="prefix ending in /"):
        deploy(mme, session, suffix="v1", poll_seconds=0)
    assert session.client("sagemaker").list_models()["Models"] == []


def test_cli_packages_publishes_and_deploys_a_multi_model_endpoint(
    session: boto3.session.Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an uploaded ONNX file, its declaration, and the endpoint's bucket
    onnx_file = tmp_path / "upload.onnx"
    onnx_file.write_bytes(b"onnx")
    declared = tmp_path / "declared.json"
    declared.write_text(json.dumps({"family": "yolox", "input_size": [416, 416], "classes": ["a"]}))
    session.client("s3").create_bucket(Bucket="models")
    out = tmp_path / "model.tar.gz"
    # When it is packaged, published under its TargetModel, and the endpoint deployed
    packaged = main(
        [
            *("package-model", str(onnx_file), "--declared", str(declared)),
            *("--name", "parts", "--out", str(out)),
        ]
    )
    sha = packaged.split()[1]
    target = f"org-1/parts/{sha}.tar.gz"
    publish = ["publish", "--artifact", str(out), "--models-prefix", "s3://models/endpoint/"]
    main([*publish, "--target-model", target], session=session)
    up = ["deploy", "--multi-model", "--models-prefix", "s3://models/endpoint", "--role-arn", ROLE]
    main([*up, "--image-uri", MME_IMAGE, "--instance-type", CPU_TYPE], session=session)
    # Then the artifact is named by the file's sha256 and lies under the prefix at its key
    assert sha == hashlib.sha256(b"onnx").hexdigest()
    stored = session.client("s3").get_object(Bucket="models", Key=f"endpoint/{target}")
    assert stored["Body"].read() == out.read_bytes()
    # and the endpoint serves that prefix (the URL given without its slash gets one)
    sagemaker = session.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName="prelabel-detector")["EndpointConfigName"]
    container = sagemaker.describe_model(ModelName=config)["PrimaryContainer"]
    assert (container["Mode"], container["ModelDataUrl"]) == ("MultiModel", "s3://models/endpoint/")


def test_multi_model_deploys_on_a_cpu_type_unless_told(session: boto3.session.Session) -> None:
    # Given the deploy command for a multi-model endpoint with no instance type
    argv = ["deploy", "--multi-model", "--models-prefix", "s3://m/p/", "--role-arn", ROLE]
    args = _parser().parse_args([*argv, "--image-uri", MME_IMAGE])
    # When its plan is made
    mme, _ = _plan(args, session)
    # Then it runs on the default CPU type (custom multi-model containers cannot use GPUs)
    assert (mme.mode, mme.instance_type) == ("MultiModel", DEFAULT_MME_INSTANCE_TYPE)


def test_cli_refuses_a_multi_model_deploy_without_our_image(
    session: boto3.session.Session,
) -> None:
    # Given no image URI: the PyTorch container does not serve the multi-model contract
    argv = ["deploy", "--multi-model", "--models-prefix", "s3://m/p/", "--role-arn", ROLE]
    # When the deploy command runs
    # Then it stops before creating anything
    with pytest.raises(SystemExit, match="--image-uri"):
        main(argv, session=session)
    assert session.client("sagemaker").list_models()["Models"] == []


def _capacity_tags(session: boto3.session.Session) -> list[str]:
    sagemaker = session.client("sagemaker")
    arn = sagemaker.describe_endpoint(EndpointName="prelabel-detector")["EndpointArn"]
    tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    return [t["Value"] for t in tags if t["Key"] == "prelabel:images-per-second"]


def test_deploy_tags_the_measured_rate_and_a_redeploy_replaces_or_drops_it(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    # Given an artifact, deployed with the rate measured on its instance type
    artifact = tmp_path / "model.tar.gz"
    artifact.write_bytes(b"tarball")
    session.client("s3").create_bucket(Bucket="models")
    argv = ["deploy", "--artifact", str(artifact), "--bucket", "models", "--role-arn", ROLE]
    argv += ["--instance-type", GPU_TYPE]
    main([*argv, "--images-per-second", "1450.5"], session=session)
    # Then the endpoint carries that figure, where a run's Prepare reads it
    assert _capacity_tags(session) == ["1450.5"]
    # When it is redeployed with another measured figure
    deploy(plan(images_per_second=900.0), session, suffix="v2", poll_seconds=0)
    # Then only the new figure is there
    assert _capacity_tags(session) == ["900"]
    # When it is redeployed without a figure (say, on another instance type)
    deploy(plan(instance_type="ml.g4dn.xlarge"), session, suffix="v3", poll_seconds=0)
    # Then no figure of an earlier deploy is left behind
    assert _capacity_tags(session) == []


@pytest.mark.parametrize("rate", ["0", "-5", "inf"])
def test_cli_refuses_a_rate_that_is_not_a_positive_number(
    session: boto3.session.Session, rate: str
) -> None:
    # Given a deploy asked to tag a rate that no endpoint has
    argv = ["deploy", "--bucket", "b", "--role-arn", ROLE, "--images-per-second", rate]
    # When the deploy command runs
    # Then it stops before creating anything, naming the option and the value
    with pytest.raises(SystemExit, match=f"--images-per-second: {rate}"):
        main(argv, session=session)
    assert session.client("sagemaker").list_models()["Models"] == []
