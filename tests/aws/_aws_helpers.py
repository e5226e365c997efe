"""Helpers the AWS test modules share."""

from __future__ import annotations

from mediamix.aws.clients import AwsConfig

REGION = "eu-west-1"

FAILING_UPDATES: set[str] = set()
"""Endpoints whose next update fails on the fake server (the new config never serves,
the endpoint comes back InService on the old one with a failure reason, as SageMaker does)."""


def make_bucket(config: AwsConfig, name: str) -> str:
    config.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name
