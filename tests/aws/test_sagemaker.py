"""SageMaker deployment and training against a moto server: the calls, in their order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _aws_helpers import FAILING_UPDATES, make_bucket

from mediamix.aws.clients import AwsConfig
from mediamix.aws.sagemaker import DeployError, EndpointSpec, SageMakerClients, model_archive
from mediamix.cli.app import main
from mediamix.errors import InputError
from mediamix.service.cloud import deploy_sagemaker

ROLE = "arn:aws:iam::123456789012:role/mediamix-sagemaker"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mediamix:1"
RESOURCE = "endpoint/{}/variant/AllTraffic"
QUIET = {
    "CreateModel",
    "CreateEndpointConfig",
    "CreateEndpoint",
    "UpdateEndpoint",
    "DeleteEndpointConfig",
    "DeleteEndpoint",
    "DeleteModel",
    "RegisterScalableTarget",
    "PutScalingPolicy",
    "DeregisterScalableTarget",
}  # the calls that change something


class Recorder:
    """Every call the clients make, with its parameters, in order."""

    def __init__(self, *clients: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        for client in clients:
            client.meta.events.register("before-parameter-build", self._before)
            client.meta.events.register("after-call.sagemaker.DescribeEndpoint", self._after)

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.calls.append(("status", {"EndpointStatus": parsed.get("EndpointStatus")}))

    def statuses(self, start: str, end: str) -> list[str]:
        """Endpoint statuses seen between the first ``start`` call and the first ``end``."""
        names = [name for name, _ in self.calls]
        between = self.calls[names.index(start) : names.index(end)]
        return [p["EndpointStatus"] for n, p in between if n == "status"]

    def changes(self) -> list[str]:
        return [name for name, _ in self.calls if name in QUIET]

    def reset(self) -> None:
        self.calls.clear()


@pytest.fixture(scope="module")
def model_data(aws: AwsConfig, fitted: Path) -> str:
    bucket = make_bucket(aws, "mediamix-models")
    aws.client("s3").put_object(Bucket=bucket, Key="m/model.tar.gz", Body=model_archive(fitted))
    return f"s3://{bucket}/m/model.tar.gz"


@pytest.fixture
def clients(aws: AwsConfig) -> tuple[SageMakerClients, Recorder, list[float]]:
    sleeps: list[float] = []
    made = SageMakerClients(
        sagemaker=aws.client("sagemaker"),
        autoscaling=aws.client("application-autoscaling"),
        s3=aws.client("s3"),
        poll_seconds=0.5,
        sleep=sleeps.append,
    )
    return made, Recorder(made.sagemaker, made.autoscaling), sleeps


def _spec(name: str, model_data: str) -> EndpointSpec:
    return EndpointSpec(endpoint=name, image=IMAGE, role_arn=ROLE, model_data=model_data)


def _config_exists(sm: Any, name: str) -> bool:
    return any(
        c["EndpointConfigName"] == name for c in sm.list_endpoint_configs()["EndpointConfigs"]
    )


def _model_exists(sm: Any, name: str) -> bool:
    try:
        sm.describe_model(ModelName=name)
    except sm.exceptions.ClientError:
        return False
    return True


def test_create_update_rollback_delete(clients: Any, model_data: str) -> None:
    made, rec, sleeps = clients
    sm, aas = made.sagemaker, made.autoscaling
    spec = _spec("mmm", model_data)

    first = deploy_sagemaker("create", spec, made)
    assert rec.changes() == [
        "CreateModel",
        "CreateEndpointConfig",
        "CreateEndpoint",
        "RegisterScalableTarget",
        "PutScalingPolicy",
    ]
    variant = dict(rec.calls)["CreateEndpointConfig"]["ProductionVariants"][0]
    assert variant["ModelName"] == first["model"]
    assert variant["InitialInstanceCount"] == 1
    container = dict(rec.calls)["CreateModel"]["PrimaryContainer"]
    assert container == {"Image": IMAGE, "ModelDataUrl": model_data}
    target = aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[RESOURCE.format("mmm")]
    )["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in target] == [(1, 5)]
    policy = aas.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"][0]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == pytest.approx(70.0)
    metric = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert metric == "SageMakerVariantInvocationsPerInstance"

    rec.reset()
    second = deploy_sagemaker("update", spec, made)
    assert rec.changes() == [
        "CreateModel",
        "CreateEndpointConfig",
        "DeregisterScalableTarget",
        "UpdateEndpoint",
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "DeleteEndpointConfig",
    ]
    # the old config goes only after the endpoint was seen InService on the new one
    assert rec.statuses("UpdateEndpoint", "DeleteEndpointConfig") == ["Updating", "InService"]
    assert sleeps == [0.5]
    assert dict(rec.calls)["DeleteEndpointConfig"] == {
        "EndpointConfigName": first["endpoint_config"]
    }
    endpoint = sm.describe_endpoint(EndpointName="mmm")
    assert endpoint["EndpointConfigName"] == second["endpoint_config"]
    assert not _config_exists(sm, first["endpoint_config"])
    assert _model_exists(sm, first["model"])  # kept for rollback

    rec.reset()
    back = deploy_sagemaker("rollback", EndpointSpec(endpoint="mmm"), made)
    assert back["model"] == first["model"]
    assert back["previous_model"] == second["model"]
    config = sm.describe_endpoint(EndpointName="mmm")["EndpointConfigName"]
    variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    assert variants[0]["ModelName"] == first["model"]
    assert not _config_exists(sm, second["endpoint_config"])
    assert rec.changes() == [
        "CreateEndpointConfig",
        "DeregisterScalableTarget",
        "UpdateEndpoint",
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "DeleteEndpointConfig",
    ]

    rec.reset()
    gone = deploy_sagemaker("delete", EndpointSpec(endpoint="mmm"), made)
    assert rec.changes()[:3] == [
        "DeregisterScalableTarget",
        "DeleteEndpoint",
        "DeleteEndpointConfig",
    ]
    assert set(gone["models"]) == {first["model"], second["model"]}
    assert all(e["EndpointName"] != "mmm" for e in sm.list_endpoints()["Endpoints"])
    assert not _config_exists(sm, config)
    assert not _model_exists(sm, first["model"])
    assert not _model_exists(sm, second["model"])
    assert not aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[RESOURCE.format("mmm")]
    )["ScalableTargets"]


def test_failed_update_keeps_the_old_config(clients: Any, model_data: str) -> None:
    made, rec, _ = clients
    sm = made.sagemaker
    spec = _spec("mmm-fail", model_data)
    first = deploy_sagemaker("create", spec, made)

    FAILING_UPDATES.add("mmm-fail")
    rec.reset()
    with pytest.raises(DeployError, match="did not answer /ping"):
        deploy_sagemaker("update", spec, made)
    assert (
        sm.describe_endpoint(EndpointName="mmm-fail")["EndpointConfigName"]
        == first["endpoint_config"]
    )
    assert "DeleteEndpointConfig" in rec.changes()
    deleted = [p["EndpointConfigName"] for n, p in rec.calls if n == "DeleteEndpointConfig"]
    assert first["endpoint_config"] not in deleted  # the old config is kept
    assert _config_exists(sm, first["endpoint_config"])
    assert rec.changes()[-2:] == ["DeleteEndpointConfig", "DeleteModel"]  # the new pair goes
    assert rec.changes().count("RegisterScalableTarget") == 1  # scaling back on the old one
    deploy_sagemaker("delete", spec, made)


def test_rollback_without_history_is_an_input_error(clients: Any, model_data: str) -> None:
    made, _, _ = clients
    deploy_sagemaker("create", _spec("mmm-new", model_data), made)
    with pytest.raises(InputError, match="no previous deployment"):
        deploy_sagemaker("rollback", EndpointSpec(endpoint="mmm-new"), made)
    deploy_sagemaker("delete", EndpointSpec(endpoint="mmm-new"), made)


def test_cli_create_uploads_the_model(
    aws: AwsConfig,
    fitted: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bucket = make_bucket(aws, "mediamix-cli")
    monkeypatch.setenv("MEDIAMIX_STORAGE_URI", f"s3://{bucket}/prod")
    args = [
        "deploy",
        "sagemaker",
        "create",
        "--endpoint",
        "cli-mmm",
        "--model",
        str(fitted),
        "--image",
        IMAGE,
        "--role-arn",
        ROLE,
        "--max-instances",
        "3",
    ]
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0, capsys.readouterr().err
    sm = aws.client("sagemaker")
    config = sm.describe_endpoint(EndpointName="cli-mmm")["EndpointConfigName"]
    model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"
    ]
    url = sm.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"]
    assert url.startswith(f"s3://{bucket}/prod/deployments/cli-mmm/")
    key = url.removeprefix(f"s3://{bucket}/")
    head = aws.client("s3").head_object(Bucket=bucket, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    with pytest.raises(SystemExit) as done:
        main(["deploy", "sagemaker", "delete", "--endpoint", "cli-mmm"])
    assert done.value.code == 0


def test_cli_bad_input_exits_2(fitted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(
            [
                "deploy",
                "sagemaker",
                "create",
                "--endpoint",
                "x",
                "--model",
                str(fitted),
                "--model-data",
                "s3://b/k",
                "--image",
                IMAGE,
                "--role-arn",
                ROLE,
            ]
        )
    assert done.value.code == 2
    assert "--model" in capsys.readouterr().err


def test_train_sagemaker(
    aws: AwsConfig,
    fitted: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The job request reads S3 and the model comes back verified and published.

    moto records the job but runs no container: the test puts the job's
    ``model.tar.gz`` where SageMaker would (the ``train`` entry point itself runs in
    tests/aws/test_container.py).
    """
    bucket = make_bucket(aws, "mediamix-train")
    monkeypatch.setenv("MEDIAMIX_STORAGE_URI", f"s3://{bucket}/prod")
    s3 = aws.client("s3")
    s3.put_object(
        Bucket=bucket, Key="prod/training/job-1/output/model.tar.gz", Body=model_archive(fitted)
    )
    seen: list[dict[str, Any]] = []
    import boto3

    def capture(params: dict[str, Any], **_: Any) -> None:
        seen.append(dict(params))

    monkeypatch.setattr(
        "mediamix.aws.clients.AwsConfig.client",
        lambda self, service: _with_hook(
            boto3.client(service, region_name=self.region, endpoint_url=self.endpoint_url), capture
        ),
    )
    args = [
        "train",
        "sagemaker",
        "--input",
        f"s3://{bucket}/prod/landing/in/",
        "--out",
        str(tmp_path / "fit"),
        "--image",
        IMAGE,
        "--role-arn",
        ROLE,
        "--job-name",
        "job-1",
        "--publish",
        "trained",
    ]
    with pytest.raises(SystemExit) as done:
        main(args)
    assert done.value.code == 0, capsys.readouterr().err
    request = seen[0]
    source = request["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert source["S3Uri"] == f"s3://{bucket}/prod/landing/in/"
    assert request["OutputDataConfig"]["S3OutputPath"] == f"s3://{bucket}/prod/training"
    assert request["HyperParameters"] == {"spec": "spec.yaml", "engine": "ridge", "seed": "0"}
    assert (tmp_path / "fit" / "model" / "manifest.json").is_file()
    from mediamix.aws.s3store import S3Store

    assert len(S3Store(f"s3://{bucket}/prod", aws).versions("models", "trained")) == 1


def _with_hook(client: Any, capture: Any) -> Any:
    client.meta.events.register("before-parameter-build.sagemaker.CreateTrainingJob", capture)
    return client
