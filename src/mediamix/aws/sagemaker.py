"""SageMaker endpoints (create, blue/green update, rollback, delete) and training jobs.

An endpoint serves one mediamix model through the serving contract of
``mediamix serve --sagemaker`` (``/ping``, ``/invocations``), run by the image's
``serve`` entry point. Each deployment is a SageMaker *model* (image + model data)
and an *endpoint config* (instance type and count) named ``<endpoint>-<stamp>``.

Update is blue/green: a new model and config are created, the scalable target is
deregistered (SageMaker refuses to update an endpoint under auto scaling), the
endpoint is pointed at the new config, and only once it is ``InService`` again is
the old config deleted and auto scaling registered again. The previous model is
kept (named in the endpoint's ``mediamix:previous-model`` tag) so that rollback
can build its config again; a failed update leaves the old config serving.

Auto scaling tracks ``SageMakerVariantInvocationsPerInstance`` between
``min_instances`` and ``max_instances``, targeting ``target_utilization`` of the
invocations per minute one instance sustains (``instance_capacity``, measured by a
load test of the image).
"""

from __future__ import annotations

import io
import logging
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mediamix.errors import InputError, MediamixError

__all__ = [
    "VARIANT",
    "DeployError",
    "EndpointSpec",
    "SageMakerClients",
    "TrainingSpec",
    "create_endpoint",
    "delete_endpoint",
    "extract_model_archive",
    "model_archive",
    "rollback_endpoint",
    "run_training_job",
    "update_endpoint",
]

log = logging.getLogger(__name__)

VARIANT = "AllTraffic"
PREVIOUS_TAG = "mediamix:previous-model"
CURRENT_TAG = "mediamix:model"
MAX_ARCHIVE_BYTES = 1 << 30


class DeployError(MediamixError):
    """An endpoint or training job did not reach the state it was asked for."""


@dataclass(frozen=True)
class SageMakerClients:
    """The boto3 clients a deployment uses, and how it waits.

    ``sleep`` and ``poll_seconds`` are parameters so that tests against a local
    server do not wait.
    """

    sagemaker: Any
    autoscaling: Any
    s3: Any = None
    poll_seconds: float = 15.0
    timeout_seconds: float = 3600.0
    sleep: Callable[[float], None] = field(default=time.sleep)


@dataclass(frozen=True)
class EndpointSpec:
    """What to deploy.

    Attributes
    ----------
    endpoint : str
        Endpoint name (also the prefix of its models and configs).
    image : str or None
        ECR URI of the mediamix image (its ``serve`` entry point answers the contract).
    role_arn : str or None
        Execution role SageMaker assumes (reads the model data, pulls the image).
    model_data : str or None
        ``s3://`` URI of ``model.tar.gz`` (a fit output, :func:`model_archive`).
        The three are needed to create or update, not to roll back or delete.
    instance_type : str
        Instance type of the variant.
    min_instances, max_instances : int
        Auto scaling bounds (the initial count is ``min_instances``).
    instance_capacity : float
        Invocations per minute one instance sustains.
    target_utilization : float
        Share of ``instance_capacity`` auto scaling keeps each instance at.
    kms_key_id : str or None
        KMS key for the instances' storage volume.
    """

    endpoint: str
    image: str | None = None
    role_arn: str | None = None
    model_data: str | None = None
    instance_type: str = "ml.m5.large"
    min_instances: int = 1
    max_instances: int = 5
    instance_capacity: float = 100.0
    target_utilization: float = 0.70
    kms_key_id: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_instances <= self.max_instances:
            raise InputError.single(
                "need 1 <= min_instances <= max_instances", column="min_instances"
            )
        if not 0 < self.target_utilization <= 1:
            raise InputError.single("must be in (0, 1]", column="target_utilization")
        if self.model_data is not None and not self.model_data.startswith("s3://"):
            raise InputError.single("model data must be an s3:// URI", column="model_data")

    @property
    def target_value(self) -> float:
        """Target invocations per instance per minute."""
        return round(self.instance_capacity * self.target_utilization, 6)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")


def _resource_id(endpoint: str) -> str:
    return f"endpoint/{endpoint}/variant/{VARIANT}"


def _create_model_and_config(clients: SageMakerClients, spec: EndpointSpec, name: str) -> None:
    for field_name in ("image", "role_arn", "model_data"):
        if not getattr(spec, field_name):
            raise InputError.single(f"a deployment needs {field_name}", column=field_name)
    sm = clients.sagemaker
    sm.create_model(
        ModelName=name,
        ExecutionRoleArn=spec.role_arn,
        PrimaryContainer={"Image": spec.image, "ModelDataUrl": spec.model_data},
        Tags=[{"Key": "mediamix:endpoint", "Value": spec.endpoint}],
    )
    _create_config(clients, spec, name, model=name)


def _create_config(clients: SageMakerClients, spec: EndpointSpec, name: str, *, model: str) -> None:
    extra = {"KmsKeyId": spec.kms_key_id} if spec.kms_key_id else {}
    clients.sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": model,
                "InitialInstanceCount": spec.min_instances,
                "InstanceType": spec.instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        **extra,
    )


def _wait_in_service(clients: SageMakerClients, endpoint: str, config: str) -> None:
    """Wait until ``endpoint`` serves ``config``.

    A failed update brings the endpoint back InService on its old config with a
    failure reason: InService on another config is a failure too.
    """
    deadline = time.monotonic() + clients.timeout_seconds
    while True:
        status = clients.sagemaker.describe_endpoint(EndpointName=endpoint)
        state = status["EndpointStatus"]
        if state == "InService" and status["EndpointConfigName"] == config:
            return
        if state == "InService":
            raise DeployError(
                f"endpoint {endpoint} did not move to {config}: "
                f"{status.get('FailureReason') or 'no reason given'}"
            )
        if state in ("Failed", "OutOfService"):
            raise DeployError(
                f"endpoint {endpoint} is {state}: {status.get('FailureReason', 'no reason given')}"
            )
        if time.monotonic() > deadline:
            raise DeployError(
                f"endpoint {endpoint} still {state} after {clients.timeout_seconds} s"
            )
        log.info("endpoint %s is %s; waiting", endpoint, state)
        clients.sleep(clients.poll_seconds)


def _register_scaling(clients: SageMakerClients, spec: EndpointSpec) -> None:
    aas = clients.autoscaling
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=_resource_id(spec.endpoint),
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=spec.min_instances,
        MaxCapacity=spec.max_instances,
    )
    aas.put_scaling_policy(
        PolicyName=f"{spec.endpoint}-invocations",
        ServiceNamespace="sagemaker",
        ResourceId=_resource_id(spec.endpoint),
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": spec.target_value,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )


def _deregister_scaling(clients: SageMakerClients, endpoint: str) -> None:
    aas = clients.autoscaling
    targets = aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[_resource_id(endpoint)]
    )["ScalableTargets"]
    if targets:
        aas.deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=_resource_id(endpoint),
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        )


def _tags(clients: SageMakerClients, endpoint: str) -> dict[str, str]:
    arn = clients.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    tags = clients.sagemaker.list_tags(ResourceArn=arn).get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags}


def _set_tags(clients: SageMakerClients, endpoint: str, values: dict[str, str]) -> None:
    arn = clients.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    clients.sagemaker.add_tags(
        ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in values.items()]
    )


def create_endpoint(clients: SageMakerClients, spec: EndpointSpec) -> dict[str, str]:
    """Create model, endpoint config and endpoint, wait until InService, then auto scaling.

    Returns the names created (``model``, ``endpoint_config``, ``endpoint``).
    """
    name = f"{spec.endpoint}-{_stamp()}"
    _create_model_and_config(clients, spec, name)
    clients.sagemaker.create_endpoint(
        EndpointName=spec.endpoint,
        EndpointConfigName=name,
        Tags=[{"Key": CURRENT_TAG, "Value": name}],
    )
    _wait_in_service(clients, spec.endpoint, name)
    _register_scaling(clients, spec)
    log.info("endpoint %s in service with %s", spec.endpoint, name)
    return {"endpoint": spec.endpoint, "endpoint_config": name, "model": name}


def _switch(clients: SageMakerClients, spec: EndpointSpec, new_config: str, new_model: str) -> str:
    """Point the endpoint at ``new_config`` blue/green; returns the old config's name."""
    sm = clients.sagemaker
    old_config = sm.describe_endpoint(EndpointName=spec.endpoint)["EndpointConfigName"]
    _deregister_scaling(clients, spec.endpoint)
    try:
        sm.update_endpoint(EndpointName=spec.endpoint, EndpointConfigName=new_config)
        _wait_in_service(clients, spec.endpoint, new_config)
    except Exception:
        # SageMaker keeps serving the old config when an update fails; put scaling back
        # on it and drop the config that never served
        log.exception(
            "update of %s to %s failed; the old config keeps serving", spec.endpoint, new_config
        )
        _register_scaling(clients, spec)
        sm.delete_endpoint_config(EndpointConfigName=new_config)
        raise
    _register_scaling(clients, spec)
    sm.delete_endpoint_config(EndpointConfigName=old_config)
    _set_tags(clients, spec.endpoint, {CURRENT_TAG: new_model})
    return old_config


def _current_model(clients: SageMakerClients, endpoint: str) -> str:
    sm = clients.sagemaker
    config = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    return str(variants[0]["ModelName"])


def update_endpoint(clients: SageMakerClients, spec: EndpointSpec) -> dict[str, str]:
    """Deploy ``spec`` on an existing endpoint, blue/green; the names involved.

    The old endpoint config is deleted only after the endpoint is InService on the
    new one; the old model is kept as the rollback target, and the model before it
    is deleted.
    """
    previous = _current_model(clients, spec.endpoint)
    older = _tags(clients, spec.endpoint).get(PREVIOUS_TAG)
    name = f"{spec.endpoint}-{_stamp()}"
    _create_model_and_config(clients, spec, name)
    try:
        old_config = _switch(clients, spec, name, name)
    except Exception:
        clients.sagemaker.delete_model(ModelName=name)
        raise
    _set_tags(clients, spec.endpoint, {PREVIOUS_TAG: previous})
    if older and older not in (previous, name):
        clients.sagemaker.delete_model(ModelName=older)
    log.info("endpoint %s moved from %s to %s", spec.endpoint, old_config, name)
    return {
        "endpoint": spec.endpoint,
        "endpoint_config": name,
        "model": name,
        "previous_model": previous,
    }


def rollback_endpoint(clients: SageMakerClients, spec: EndpointSpec) -> dict[str, str]:
    """Serve the previous model again (blue/green, like an update); the names involved.

    ``spec`` gives the endpoint and the instance settings; its image and model data
    are not used (the previous model keeps its own).
    """
    previous = _tags(clients, spec.endpoint).get(PREVIOUS_TAG)
    if not previous:
        raise InputError.single(
            f"endpoint {spec.endpoint} has no previous deployment to roll back to",
            column="endpoint",
        )
    current = _current_model(clients, spec.endpoint)
    name = f"{previous}-rollback-{_stamp()}"[:63]
    _create_config(clients, spec, name, model=previous)
    _switch(clients, spec, name, previous)
    _set_tags(clients, spec.endpoint, {PREVIOUS_TAG: current})
    log.info("endpoint %s rolled back to %s", spec.endpoint, previous)
    return {
        "endpoint": spec.endpoint,
        "endpoint_config": name,
        "model": previous,
        "previous_model": current,
    }


def delete_endpoint(clients: SageMakerClients, endpoint: str) -> dict[str, list[str]]:
    """Remove auto scaling, the endpoint, its config and its models; what was deleted."""
    sm = clients.sagemaker
    config = sm.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    models = [_current_model(clients, endpoint)]
    previous = _tags(clients, endpoint).get(PREVIOUS_TAG)
    if previous and previous not in models:
        models.append(previous)
    _deregister_scaling(clients, endpoint)
    sm.delete_endpoint(EndpointName=endpoint)
    sm.delete_endpoint_config(EndpointConfigName=config)
    for model in models:
        sm.delete_model(ModelName=model)
    log.info("endpoint %s deleted", endpoint)
    return {"endpoint": [endpoint], "endpoint_configs": [config], "models": models}


def model_archive(folder: str | Path) -> bytes:
    """``model.tar.gz`` of a fit output folder, the layout SageMaker unpacks in /opt/ml/model.

    The safe artifact is checked first (hashes and contents), so a broken folder is
    never deployed.
    """
    from mediamix.io.artifacts import load_artifact

    folder = Path(folder)
    model = folder / "model" if (folder / "model" / "manifest.json").is_file() else folder
    load_artifact(model)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink():
                raise InputError.single("symbolic links are not packaged", file=str(path))
            if path.is_file():
                tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


def extract_model_archive(data: bytes, dest: Path, *, source: str = "model.tar.gz") -> Path:
    """Unpack a ``model.tar.gz`` into ``dest`` safely, then check its safe artifact.

    Regular files only (no links, devices or paths leaving ``dest``), sizes bounded;
    tarfile's ``data`` filter enforces the same, this also refuses what it would
    silently rewrite.
    """
    from mediamix.io.artifacts import load_artifact
    from mediamix.io.atomic import atomic_dir

    with atomic_dir(dest) as tmp, tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        total = 0
        for member in tar.getmembers():
            name = member.name
            if member.isdir():
                continue
            if not member.isfile() or name.startswith(("/", "\\")) or ".." in Path(name).parts:
                raise InputError.single(f"archive entry {name!r} is not a plain file", file=source)
            total += member.size
            if total > MAX_ARCHIVE_BYTES:
                raise InputError.single("archive larger than its limit", file=source)
        tar.extractall(tmp, filter="data")
        model = tmp / "model" if (tmp / "model" / "manifest.json").is_file() else tmp
        load_artifact(model)
    return dest


@dataclass(frozen=True)
class TrainingSpec:
    """A fit as a SageMaker training job.

    ``input_uri`` is an ``s3://`` prefix holding the spec and its data (the
    ``training`` channel, unpacked in ``/opt/ml/input/data/training``); the job's
    ``model.tar.gz`` goes under ``output_uri``.
    """

    job_name: str
    image: str
    role_arn: str
    input_uri: str
    output_uri: str
    spec: str = "spec.yaml"
    engine: str = "ridge"
    seed: int = 0
    instance_type: str = "ml.m5.large"
    max_runtime_seconds: int = 3600
    volume_kms_key_id: str | None = None
    output_kms_key_id: str | None = None

    def request(self) -> dict[str, Any]:
        """The ``CreateTrainingJob`` request."""
        output: dict[str, Any] = {"S3OutputPath": self.output_uri}
        if self.output_kms_key_id:
            output["KmsKeyId"] = self.output_kms_key_id
        resources: dict[str, Any] = {
            "InstanceType": self.instance_type,
            "InstanceCount": 1,
            "VolumeSizeInGB": 10,
        }
        if self.volume_kms_key_id:
            resources["VolumeKmsKeyId"] = self.volume_kms_key_id
        return {
            "TrainingJobName": self.job_name,
            "AlgorithmSpecification": {"TrainingImage": self.image, "TrainingInputMode": "File"},
            "RoleArn": self.role_arn,
            "HyperParameters": {"spec": self.spec, "engine": self.engine, "seed": str(self.seed)},
            "InputDataConfig": [
                {
                    "ChannelName": "training",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": self.input_uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
            ],
            "OutputDataConfig": output,
            "ResourceConfig": resources,
            "StoppingCondition": {"MaxRuntimeInSeconds": self.max_runtime_seconds},
            "EnableNetworkIsolation": True,
        }


def run_training_job(clients: SageMakerClients, spec: TrainingSpec, dest: Path) -> dict[str, Any]:
    """Run the training job, wait for it, and unpack its model into ``dest`` (verified).

    Returns the job's name, status and the ``s3://`` URI of its ``model.tar.gz``.
    """
    sm = clients.sagemaker
    sm.create_training_job(**spec.request())
    deadline = time.monotonic() + clients.timeout_seconds
    while True:
        job = sm.describe_training_job(TrainingJobName=spec.job_name)
        status = job["TrainingJobStatus"]
        if status == "Completed":
            break
        if status in ("Failed", "Stopped"):
            raise DeployError(
                f"training job {spec.job_name} {status}: {job.get('FailureReason', 'no reason given')}"
            )
        if time.monotonic() > deadline:
            raise DeployError(f"training job {spec.job_name} still {status}")
        log.info("training job %s is %s; waiting", spec.job_name, status)
        clients.sleep(clients.poll_seconds)
    uri = job["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    obj = clients.s3.get_object(Bucket=bucket, Key=key)
    if int(obj.get("ContentLength", 0)) > MAX_ARCHIVE_BYTES:
        raise InputError.single("model archive larger than its limit", file=uri)
    extract_model_archive(obj["Body"].read(), dest, source=uri)
    return {"job": spec.job_name, "status": status, "model_data": uri}
