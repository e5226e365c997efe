"""Helpers the AWS test modules share."""

from __future__ import annotations

from mediamix.aws.clients import AwsConfig

REGION = "eu-west-1"


def make_bucket(config: AwsConfig, name: str) -> str:
    config.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name
