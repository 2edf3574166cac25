"""The local detector endpoint as SageMaker's control plane shows it (in moto): what a run's
Prepare describes to size its concurrency, as it describes the deployed endpoint on AWS.

The local endpoint server answers the runtime API (InvokeEndpoint); moto answers the control
plane (DescribeEndpoint, ListTags). The endpoint is registered there the way the deploy leaves
it: its instances, and the capacity tag with one instance's measured images/s.
"""

from __future__ import annotations

import contextlib
from typing import Any

from prelabel.detector_wire import CAPACITY_TAG

# YOLOX-Nano on this machine's CPU, end to end in batches of 8 on one thread: 24-35 img/s
# (docs/benchmarks.md, "Detector"); the low end, as the machine is shared.
LOCAL_IMAGES_PER_SECOND = 24.0
# The worker's own time per image on the local stack (fetch, prepare, its share of the commit
# through moto and DynamoDB Local on 2 shared cores), without the endpoint's time. With the rate
# above, one instance keeps 4 workers busy: 24 / (1 / (0.125 + 1/24)) = 4.
LOCAL_WORKER_SECONDS_PER_IMAGE = 0.125
# moto checks instance types against its list; which CPU type the local one stands for is moot.
LOCAL_INSTANCE_TYPE = "ml.c5.xlarge"
LOCAL_ROLE = "arn:aws:iam::123456789012:role/prelabel-local-detector"


def register_endpoint(
    sagemaker: Any,
    name: str,
    *,
    instances: int = 1,
    images_per_second: float | None = LOCAL_IMAGES_PER_SECOND,
) -> str:
    """(Re)create endpoint `name` in moto's SageMaker with `instances` in service and, unless
    None, the capacity tag. Returns its ARN."""
    for delete, key in (
        (sagemaker.delete_endpoint, {"EndpointName": name}),
        (sagemaker.delete_endpoint_config, {"EndpointConfigName": name}),
        (sagemaker.delete_model, {"ModelName": name}),
    ):
        with contextlib.suppress(sagemaker.exceptions.ClientError):
            delete(**key)
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=LOCAL_ROLE,
        PrimaryContainer={"Image": "prelabel-local-detector"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": LOCAL_INSTANCE_TYPE,
                "InitialInstanceCount": instances,
            }
        ],
    )
    tags = []
    if images_per_second is not None:
        tags = [{"Key": CAPACITY_TAG, "Value": f"{images_per_second:g}"}]
    reply = sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name, Tags=tags)
    return str(reply["EndpointArn"])
