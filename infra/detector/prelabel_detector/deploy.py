"""Create the detector's SageMaker endpoint with the SageMaker Python SDK, autoscale it, and
delete it when idle.

    python -m prelabel_detector.deploy convert ../shared/models/yolox-nano/yolox_nano.onnx
    python -m prelabel_detector.deploy package            # out/model.tar.gz, torch backend
    python -m prelabel_detector.deploy deploy --bucket B --role-arn R --instance-type ml.g6.xlarge
    python -m prelabel_detector.deploy delete-if-idle --endpoint-name E --idle-minutes 60

One endpoint for every organization's models (a multi-model endpoint, docs/detector.md):

    python -m prelabel_detector.deploy package-model model.onnx --declared d.json --name N
    python -m prelabel_detector.deploy publish --artifact A --models-prefix s3://B/P/ \
        --target-model org/model/sha256.tar.gz
    python -m prelabel_detector.deploy deploy --multi-model --models-prefix s3://B/P/ \
        --image-uri ECR/prelabel-detector-mme --role-arn R [--instance-type ml.c6i.2xlarge]

`deploy` and `delete-if-idle` need the `deploy` extra (sagemaker-core, the SDK's resource layer:
`sagemaker.core.resources.Model / EndpointConfig / Endpoint`); `convert` needs the `torch` extra;
`package` needs neither. Application Auto Scaling and CloudWatch have no SDK resource classes,
so they are called through clients of the same boto3 session.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prelabel.detector_wire import CAPACITY_TAG
from prelabel_detector.artifact import build_artifact, build_model_artifact
from prelabel_detector.descriptor import bundled

if TYPE_CHECKING:
    import boto3

VARIANT = "AllTraffic"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
DEFAULT_DESCRIPTOR = "yolox_nano_torch.json"
DEFAULT_WEIGHTS_DIR = "out/weights"
# The AWS PyTorch inference container (TorchServe + the SageMaker inference toolkit), which runs
# code/inference.py; its image URI per region comes from the SDK's image_uris.
FRAMEWORK_VERSION = "2.6.0"
PY_VERSION = "py312"
DEFAULT_INSTANCE_TYPE = "ml.g6.xlarge"
# Multi-model endpoints with a custom container run on CPU instances only (on GPUs SageMaker
# serves multi-model endpoints with its Triton container alone); see docs/detector.md.
DEFAULT_MME_INSTANCE_TYPE = "ml.c6i.2xlarge"
SINGLE_MODEL = "SingleModel"
MULTI_MODEL = "MultiModel"


@dataclass(frozen=True)
class EndpointPlan:
    endpoint_name: str
    model_data_url: str
    role_arn: str
    image_uri: str
    instance_type: str = DEFAULT_INSTANCE_TYPE
    initial_instances: int = 1
    min_instances: int = 1
    max_instances: int = 4
    # Invocations per instance per minute; one call carries a whole batch of images.
    target_invocations: float = 600.0
    # Model-server worker processes per instance: each has its own CUDA context and copy of the
    # network, so one worker's CPU work (headers, JSON) overlaps another's GPU work.
    workers: int | None = None
    threads: int | None = None
    # SingleModel: model_data_url is one model.tar.gz run by the PyTorch container.
    # MultiModel: model_data_url is the S3 prefix TargetModel names artifacts under, and the
    # image is the detector's own, serving SageMaker's multi-model contract.
    mode: str = SINGLE_MODEL
    # The container's own budget for loaded models (SageMaker also unloads on memory pressure).
    memory_budget_mb: int | None = None
    # One instance's images/s as measured on this instance type (benchmarks/detector.py
    # --device cuda, end to end): tagged on the endpoint, where a run's Prepare reads it.
    images_per_second: float | None = None

    @property
    def resource_id(self) -> str:
        return f"endpoint/{self.endpoint_name}/variant/{VARIANT}"

    def container(self) -> Any:
        """The SDK's ContainerDefinition for this plan."""
        from sagemaker.core.shapes import ContainerDefinition, MultiModelConfig

        if self.mode == MULTI_MODEL:
            if not self.model_data_url.endswith("/"):
                raise ValueError("a multi-model endpoint's model data URL is a prefix ending in /")
            return ContainerDefinition(
                image=self.image_uri,
                mode=MULTI_MODEL,
                model_data_url=self.model_data_url,
                environment=self.environment(),
                # Artifacts stay on the instance's disk after unloading: a reload skips S3.
                multi_model_config=MultiModelConfig(model_cache_setting="Enabled"),
            )
        return ContainerDefinition(
            image=self.image_uri,
            model_data_url=self.model_data_url,
            environment=self.environment(),
        )

    def environment(self) -> dict[str, str]:
        if self.mode == MULTI_MODEL:
            multi: dict[str, str] = {}
            if self.memory_budget_mb is not None:
                multi["PRELABEL_DETECTOR_MEMORY_MB"] = str(self.memory_budget_mb)
            if self.threads is not None:
                multi["PRELABEL_DETECTOR_THREADS"] = str(self.threads)
            return multi
        env = {
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        }
        if self.workers is not None:
            env["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(self.workers)
        if self.threads is not None:
            env["PRELABEL_DETECTOR_THREADS"] = str(self.threads)
        return env


def deploy(
    plan: EndpointPlan,
    session: boto3.Session,
    suffix: str,
    poll_seconds: int = 30,
    timeout_seconds: int = 3600,
) -> str:
    """Model, endpoint config, endpoint (created, or moved to the new config), autoscaling.

    Returns the endpoint's ARN once it is InService with the new config.
    """
    from sagemaker.core.resources import Endpoint, EndpointConfig, Model
    from sagemaker.core.shapes import ProductionVariant

    region = session.region_name
    name = f"{plan.endpoint_name}-{suffix}"
    Model.create(
        model_name=name,
        primary_container=plan.container(),
        execution_role_arn=plan.role_arn,
        session=session,
        region=region,
    )
    EndpointConfig.create(
        endpoint_config_name=name,
        production_variants=[
            ProductionVariant(
                variant_name=VARIANT,
                model_name=name,
                instance_type=plan.instance_type,
                initial_instance_count=plan.initial_instances,
            )
        ],
        session=session,
        region=region,
    )
    autoscaling = session.client("application-autoscaling")
    endpoint = find_endpoint(plan.endpoint_name, session)
    if endpoint is None:
        endpoint = Endpoint.create(
            endpoint_name=plan.endpoint_name,
            endpoint_config_name=name,
            session=session,
            region=region,
        )
    else:
        # A variant registered with Application Auto Scaling refuses an update that changes
        # its instance type; the target is registered again below.
        _deregister(autoscaling, plan.resource_id)
        endpoint.endpoint_config_name = name
        endpoint.update()
    # Scalable targets can only be registered for a variant that exists and is InService.
    endpoint.wait_for_status("InService", poll=poll_seconds, timeout=timeout_seconds)
    _autoscale(plan, autoscaling)
    tag_capacity(session.client("sagemaker"), str(endpoint.endpoint_arn), plan.images_per_second)
    return str(endpoint.endpoint_arn)


def tag_capacity(sagemaker: Any, endpoint_arn: str, images_per_second: float | None) -> None:
    """The endpoint's measured rate, or none: a figure measured for an earlier deploy (another
    instance type, another model) must not outlive it, so runs then use the stack's setting."""
    sagemaker.delete_tags(ResourceArn=endpoint_arn, TagKeys=[CAPACITY_TAG])
    if images_per_second is not None:
        sagemaker.add_tags(
            ResourceArn=endpoint_arn,
            Tags=[{"Key": CAPACITY_TAG, "Value": f"{images_per_second:g}"}],
        )


def _autoscale(plan: EndpointPlan, autoscaling: Any) -> None:
    """Instances between the plan's bounds, tracking invocations per instance."""
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=plan.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
        MinCapacity=plan.min_instances,
        MaxCapacity=plan.max_instances,
    )
    autoscaling.put_scaling_policy(
        PolicyName=f"{plan.endpoint_name}-invocations",
        ServiceNamespace="sagemaker",
        ResourceId=plan.resource_id,
        ScalableDimension=SCALABLE_DIMENSION,
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


def find_endpoint(endpoint_name: str, session: boto3.Session) -> Any:
    """The SDK's Endpoint resource, or None when there is no endpoint of that name."""
    from botocore.exceptions import ClientError
    from sagemaker.core.resources import Endpoint

    try:
        return Endpoint.get(
            endpoint_name=endpoint_name, session=session, region=session.region_name
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return None
        raise


def delete_if_idle(
    endpoint_name: str, idle_minutes: int, session: boto3.Session, now: datetime
) -> str:
    """Delete the endpoint (keeping model and config for a quick redeploy) after no invocations.

    A GPU instance costs the same idle or busy; run this on a schedule between labeling runs.
    An endpoint created or updated within the window is kept: no traffic yet is not idleness.
    """
    endpoint = find_endpoint(endpoint_name, session)
    if endpoint is None:
        return "absent"
    window_start = now - timedelta(minutes=idle_minutes)
    if endpoint.last_modified_time > window_start:
        return "kept: changed within the window"
    stats = session.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint_name},
            {"Name": "VariantName", "Value": VARIANT},
        ],
        StartTime=window_start,
        EndTime=now,
        Period=idle_minutes * 60,
        Statistics=["Sum"],
    )
    if sum(point["Sum"] for point in stats["Datapoints"]) > 0:
        return "kept: in use"
    # A scalable target left behind would point at an endpoint that no longer exists.
    _deregister(
        session.client("application-autoscaling"), f"endpoint/{endpoint_name}/variant/{VARIANT}"
    )
    endpoint.delete()
    return "deleted"


def _deregister(autoscaling: Any, resource_id: str) -> None:
    with contextlib.suppress(autoscaling.exceptions.ObjectNotFoundException):
        autoscaling.deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
        )


def default_image(region: str, instance_type: str) -> str:
    from sagemaker.core import image_uris

    uri: str = image_uris.retrieve(
        framework="pytorch",
        region=region,
        version=FRAMEWORK_VERSION,
        py_version=PY_VERSION,
        instance_type=instance_type,
        image_scope="inference",
    )
    return uri


def publish(session: boto3.Session, artifact: Path, models_prefix: str, target_model: str) -> str:
    """Upload an artifact where a multi-model endpoint finds it; returns its TargetModel."""
    from prelabel_detector.sources import checked_target

    bucket, _, prefix = models_prefix.removeprefix("s3://").partition("/")
    key = f"{prefix.strip('/')}/{checked_target(target_model)}".lstrip("/")
    session.client("s3").upload_file(str(artifact), bucket, key)
    return target_model


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Detector endpoint deployment")
    sub = parser.add_subparsers(dest="command", required=True)
    convert = sub.add_parser("convert", help="YOLOX ONNX export -> torch weights file")
    convert.add_argument("onnx")
    convert.add_argument("--out", default=f"{DEFAULT_WEIGHTS_DIR}/yolox_nano.pt")
    package = sub.add_parser("package", help="build model.tar.gz")
    package.add_argument("--descriptor", default=str(bundled(DEFAULT_DESCRIPTOR)))
    package.add_argument("--weights-dir", default=DEFAULT_WEIGHTS_DIR)
    package.add_argument("--out", default="out/model.tar.gz")
    package.add_argument("--no-code", action="store_true", help="multi-model artifact: no code/")
    model = sub.add_parser("package-model", help="an uploaded ONNX file -> multi-model artifact")
    model.add_argument("onnx", type=Path)
    model.add_argument("--declared", type=Path, required=True, help="JSON: family, classes, ...")
    model.add_argument("--name", required=True)
    model.add_argument("--out", type=Path, default=Path("out/model.tar.gz"))
    pub = sub.add_parser("publish", help="upload an artifact under the models prefix")
    pub.add_argument("--artifact", type=Path, required=True)
    pub.add_argument("--models-prefix", required=True, help="s3://bucket/prefix/")
    pub.add_argument("--target-model", required=True, help="its key under the prefix")
    up = sub.add_parser("deploy", help="upload the artifact, create or update the endpoint")
    up.add_argument("--artifact", default="out/model.tar.gz")
    up.add_argument("--bucket", help="where the single-model artifact is uploaded")
    up.add_argument("--multi-model", action="store_true", help="one endpoint, many models")
    up.add_argument("--models-prefix", help="multi-model: s3://bucket/prefix/ of the artifacts")
    up.add_argument("--memory-budget-mb", type=int, help="multi-model: loaded models' budget")
    up.add_argument("--role-arn", required=True)
    up.add_argument("--endpoint-name", default="prelabel-detector")
    up.add_argument("--instance-type", help="default: a GPU type, or a CPU type multi-model")
    up.add_argument("--image-uri", help="default: the AWS PyTorch inference container")
    up.add_argument("--initial-instances", type=int, default=1)
    up.add_argument("--min-instances", type=int, default=1)
    up.add_argument("--max-instances", type=int, default=4)
    up.add_argument("--target-invocations", type=float, default=600.0)
    up.add_argument("--workers", type=int, help="model-server workers per instance")
    up.add_argument(
        "--images-per-second",
        type=float,
        help="one instance's measured images/s (benchmarks/detector.py --device cuda), tagged "
        "on the endpoint for sizing runs",
    )
    idle = sub.add_parser("delete-if-idle", help="delete the endpoint after a quiet window")
    idle.add_argument("--endpoint-name", default="prelabel-detector")
    idle.add_argument("--idle-minutes", type=int, default=60)
    return parser


def _package_model(args: argparse.Namespace) -> str:
    # The version is the file's sha256: a new file is a new artifact, never an overwrite.
    version = hashlib.sha256(args.onnx.read_bytes()).hexdigest()
    declared = json.loads(args.declared.read_text())
    build_model_artifact(args.onnx, declared, args.name, version, args.out)
    return f"{args.out} {version}"


def _plan(args: argparse.Namespace, session: boto3.Session) -> tuple[EndpointPlan, str]:
    """The endpoint plan, uploading the single-model artifact first; and the name suffix."""
    suffix = time.strftime("%Y%m%d-%H%M%S")
    multi = bool(args.multi_model)
    rate = args.images_per_second
    if rate is not None and not 0 < rate < float("inf"):
        raise SystemExit(f"--images-per-second: {rate} is not a positive number")
    if multi:
        if not args.models_prefix or not args.image_uri:
            raise SystemExit("--multi-model needs --models-prefix and --image-uri (our image)")
        url = args.models_prefix if args.models_prefix.endswith("/") else args.models_prefix + "/"
    else:
        if not args.bucket:
            raise SystemExit("deploy needs --bucket (or --multi-model with --models-prefix)")
        key = f"prelabel-detector/{suffix}/model.tar.gz"
        session.client("s3").upload_file(args.artifact, args.bucket, key)
        url = f"s3://{args.bucket}/{key}"
    instance_type = args.instance_type or (
        DEFAULT_MME_INSTANCE_TYPE if multi else DEFAULT_INSTANCE_TYPE
    )
    plan = EndpointPlan(
        endpoint_name=args.endpoint_name,
        model_data_url=url,
        role_arn=args.role_arn,
        image_uri=args.image_uri or default_image(str(session.region_name), instance_type),
        instance_type=instance_type,
        initial_instances=args.initial_instances,
        min_instances=args.min_instances,
        max_instances=args.max_instances,
        target_invocations=args.target_invocations,
        workers=args.workers,
        mode=MULTI_MODEL if multi else SINGLE_MODEL,
        memory_budget_mb=args.memory_budget_mb,
        images_per_second=args.images_per_second,
    )
    return plan, suffix


def main(argv: Sequence[str] | None = None, session: boto3.Session | None = None) -> str:
    args = _parser().parse_args(argv)
    if args.command == "convert":
        from prelabel_detector.backends.yolox_weights import convert as convert_weights

        result = str(convert_weights(Path(args.onnx), Path(args.out)))
    elif args.command == "package":
        weights = Path(args.weights_dir) if args.weights_dir else None
        out = Path(args.out)
        result = str(build_artifact(Path(args.descriptor), out, weights, code=not args.no_code))
    elif args.command == "package-model":
        result = _package_model(args)
    else:
        import boto3

        session = session or boto3.session.Session()
        if args.command == "delete-if-idle":
            result = delete_if_idle(
                args.endpoint_name, args.idle_minutes, session, datetime.now(UTC)
            )
        elif args.command == "publish":
            result = publish(session, args.artifact, args.models_prefix, args.target_model)
        else:
            plan, suffix = _plan(args, session)
            result = deploy(plan, session, suffix)
    print(result)
    return result


if __name__ == "__main__":
    main()
