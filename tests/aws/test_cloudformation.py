"""deploy/aws/mediamix.yaml: valid for cfn-lint (offline) and holding what the platform needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "aws" / "mediamix.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(TEMPLATE))


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: res.get("Properties", {})
        for name, res in template["Resources"].items()
        if res["Type"] == kind
    }


def test_cfn_lint_finds_nothing() -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    assert [str(m) for m in matches] == []


def test_buckets_encrypted_private_versioned(template: dict[str, Any]) -> None:
    buckets = _of_type(template, "AWS::S3::Bucket")
    assert len(buckets) >= 2
    for name, props in buckets.items():
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("aws:kms", "AES256")
        block = props["PublicAccessBlockConfiguration"]
        assert all(
            block[k] is True
            for k in (
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            )
        ), name
        assert props["VersioningConfiguration"]["Status"] == "Enabled", name
    data = buckets["DataBucket"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert data["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    policies = _of_type(template, "AWS::S3::BucketPolicy")
    for props in policies.values():
        sids = {s["Sid"] for s in props["PolicyDocument"]["Statement"]}
        assert "TlsOnly" in sids


def test_roles_are_least_privilege(template: dict[str, Any]) -> None:
    roles = _of_type(template, "AWS::IAM::Role")
    assert set(roles) == {"SageMakerRole", "LambdaRole"}
    for name, props in roles.items():
        assert "ManagedPolicyArns" not in props, name  # no broad managed policies
        for policy in props["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"]
                    if isinstance(statement["Action"], list)
                    else [statement["Action"]]
                )
                assert statement["Effect"] == "Allow"
                assert not any(a == "*" or a.endswith(":*") for a in actions), (name, statement)
                if statement["Resource"] == "*":
                    # only calls that take no resource, or are narrowed by a condition
                    assert actions == ["ecr:GetAuthorizationToken"] or "Condition" in statement, (
                        name,
                        statement,
                    )


def test_endpoint_scaling_one_to_five_on_invocations(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert (params["MinInstances"]["Default"], params["MaxInstances"]["Default"]) == (1, 5)
    assert params["TargetInvocationsPerInstance"]["Default"] == 70
    policy = next(iter(_of_type(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()))
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    metric = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert metric == "SageMakerVariantInvocationsPerInstance"
    assert _of_type(template, "AWS::SageMaker::Model")
    assert _of_type(template, "AWS::SageMaker::EndpointConfig")
    assert _of_type(template, "AWS::SageMaker::Endpoint")


def test_lambdas_api_alarms_parameters(template: dict[str, Any]) -> None:
    handlers = {p["Handler"] for p in _of_type(template, "AWS::Lambda::Function").values()}
    assert handlers == {
        "mediamix.lambdas.handlers.optimize_handler",
        "mediamix.lambdas.handlers.drift_handler",
    }
    import importlib

    module = importlib.import_module("mediamix.lambdas.handlers")
    for handler in handlers:
        assert callable(getattr(module, handler.rsplit(".", 1)[1]))
    stage = next(iter(_of_type(template, "AWS::ApiGateway::Stage").values()))
    assert all(
        "ThrottlingRateLimit" in m and "ThrottlingBurstLimit" in m for m in stage["MethodSettings"]
    )
    method = next(iter(_of_type(template, "AWS::ApiGateway::Method").values()))
    assert method["AuthorizationType"] == "AWS_IAM"
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    assert {a["Namespace"] for a in alarms.values()} == {
        "AWS/SageMaker",
        "AWS/Lambda",
        "AWS/ApiGateway",
    }
    names = [p["Name"] for p in _of_type(template, "AWS::SSM::Parameter").values()]
    assert any("storage-uri" in str(n) for n in names)
