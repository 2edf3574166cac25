"""Create the SageMaker endpoint for the detector, autoscale it, and delete it when idle.

    python -m prelabel_detector.deploy package --out out/model.tar.gz
    python -m prelabel_detector.deploy deploy --bucket B --role-arn R --endpoint-name E
    python -m prelabel_detector.deploy delete-if-idle --endpoint-name E --idle-minutes 60

Calls the SageMaker API through boto3 rather than the `sagemaker` SDK; docs/detector.md says why.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prelabel_detector.artifact import build_artifact
from prelabel_detector.descriptor import DEFAULT_DESCRIPTOR, bundled

VARIANT = "AllTraffic"
# AWS Deep Learning Container that runs code/inference.py through the SageMaker inference toolkit.
DEFAULT_IMAGE = (
    "763104351884.dkr.ecr.{region}.amazonaws.com/"
    "pytorch-inference:2.6.0-gpu-py312-cu124-ubuntu22.04-sagemaker"
)


@dataclass(frozen=True)
class EndpointPlan:
    endpoint_name: str
    model_data_url: str
    role_arn: str
    image_uri: str
    instance_type: str = "ml.g4dn.xlarge"
    initial_instances: int = 1
    min_instances: int = 1
    max_instances: int = 4
    # Invocations per instance per minute; one call carries a whole batch of images.
    target_invocations: float = 200.0
    threads: int | None = None

    @property
    def resource_id(self) -> str:
        return f"endpoint/{self.endpoint_name}/variant/{VARIANT}"


def deploy(
    plan: EndpointPlan, sagemaker: Any, autoscaling: Any, suffix: str, poll_seconds: int = 30
) -> str:
    """Model, endpoint config, endpoint, then autoscaling once it is InService; returns its ARN."""
    name = f"{plan.endpoint_name}-{suffix}"
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
    if plan.threads is not None:
        env["PRELABEL_DETECTOR_THREADS"] = str(plan.threads)
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=plan.role_arn,
        PrimaryContainer={
            "Image": plan.image_uri,
            "ModelDataUrl": plan.model_data_url,
            "Environment": env,
        },
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": name,
                "InstanceType": plan.instance_type,
                "InitialInstanceCount": plan.initial_instances,
            }
        ],
    )
    arn: str = sagemaker.create_endpoint(EndpointName=plan.endpoint_name, EndpointConfigName=name)[
        "EndpointArn"
    ]
    # Scalable targets can only be registered for a variant that exists and is InService.
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=plan.endpoint_name,
        WaiterConfig={"Delay": poll_seconds, "MaxAttempts": 120},
    )
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=plan.resource_id,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=plan.min_instances,
        MaxCapacity=plan.max_instances,
    )
    autoscaling.put_scaling_policy(
        PolicyName=f"{plan.endpoint_name}-invocations",
        ServiceNamespace="sagemaker",
        ResourceId=plan.resource_id,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": plan.target_invocations,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 600,
            "ScaleOutCooldown": 120,
        },
    )
    return arn


def delete_if_idle(
    endpoint_name: str, idle_minutes: int, sagemaker: Any, cloudwatch: Any, now: datetime
) -> bool:
    """Delete the endpoint (keeping model and config for a quick redeploy) after no invocations.

    A GPU instance costs the same idle or busy; run this on a schedule between labeling runs.
    """
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint_name},
            {"Name": "VariantName", "Value": VARIANT},
        ],
        StartTime=now - timedelta(minutes=idle_minutes),
        EndTime=now,
        Period=idle_minutes * 60,
        Statistics=["Sum"],
    )
    if sum(point["Sum"] for point in stats["Datapoints"]) > 0:
        return False
    sagemaker.delete_endpoint(EndpointName=endpoint_name)
    return True


def main(argv: Sequence[str] | None = None) -> None:
    import boto3  # deferred: packaging needs no AWS SDK

    parser = argparse.ArgumentParser(description="Detector endpoint deployment")
    sub = parser.add_subparsers(dest="command", required=True)
    package = sub.add_parser("package")
    package.add_argument("--descriptor", default=str(bundled(DEFAULT_DESCRIPTOR)))
    package.add_argument("--weights-dir")
    package.add_argument("--out", default="out/model.tar.gz")
    up = sub.add_parser("deploy")
    up.add_argument("--artifact", default="out/model.tar.gz")
    up.add_argument("--bucket", required=True)
    up.add_argument("--role-arn", required=True)
    up.add_argument("--endpoint-name", default="prelabel-detector")
    up.add_argument("--instance-type", default="ml.g4dn.xlarge")
    up.add_argument("--image-uri")
    up.add_argument("--min-instances", type=int, default=1)
    up.add_argument("--max-instances", type=int, default=4)
    up.add_argument("--target-invocations", type=float, default=200.0)
    idle = sub.add_parser("delete-if-idle")
    idle.add_argument("--endpoint-name", default="prelabel-detector")
    idle.add_argument("--idle-minutes", type=int, default=60)
    args = parser.parse_args(argv)

    if args.command == "package":
        weights = Path(args.weights_dir) if args.weights_dir else None
        print(build_artifact(Path(args.descriptor), Path(args.out), weights))
        return
    session = boto3.session.Session()
    if args.command == "delete-if-idle":
        deleted = delete_if_idle(
            args.endpoint_name,
            args.idle_minutes,
            session.client("sagemaker"),
            session.client("cloudwatch"),
            datetime.now(UTC),
        )
        print("deleted" if deleted else "in use, kept")
        return
    suffix = time.strftime("%Y%m%d-%H%M%S")
    key = f"prelabel-detector/{suffix}/model.tar.gz"
    session.client("s3").upload_file(args.artifact, args.bucket, key)
    plan = EndpointPlan(
        endpoint_name=args.endpoint_name,
        model_data_url=f"s3://{args.bucket}/{key}",
        role_arn=args.role_arn,
        image_uri=args.image_uri or DEFAULT_IMAGE.format(region=session.region_name),
        instance_type=args.instance_type,
        min_instances=args.min_instances,
        max_instances=args.max_instances,
        target_invocations=args.target_invocations,
    )
    print(
        deploy(plan, session.client("sagemaker"), session.client("application-autoscaling"), suffix)
    )


if __name__ == "__main__":
    main()
