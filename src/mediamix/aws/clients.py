"""boto3 clients for one account, region and (optionally) endpoint URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AwsConfig"]


@dataclass(frozen=True)
class AwsConfig:
    """Where AWS calls go.

    Attributes
    ----------
    region : str or None
        AWS region; ``None`` lets boto3 read it from its usual places
        (``AWS_DEFAULT_REGION``, ``~/.aws/config``).
    endpoint_url : str or None
        One endpoint for every service (LocalStack, a moto server); ``None`` for AWS.
    kms_key_id : str or None
        KMS key for server-side encryption of S3 objects (``aws:kms``); ``None``
        requests SSE-S3 (``AES256``).

    Examples
    --------
    >>> AwsConfig(kms_key_id="alias/mediamix").sse_arguments()
    {'ServerSideEncryption': 'aws:kms', 'SSEKMSKeyId': 'alias/mediamix'}
    >>> AwsConfig().sse_arguments()
    {'ServerSideEncryption': 'AES256'}
    """

    region: str | None = None
    endpoint_url: str | None = None
    kms_key_id: str | None = None

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` (credentials from boto3's usual chain)."""
        import boto3

        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint_url)

    def sse_arguments(self) -> dict[str, str]:
        """The server-side encryption arguments every S3 put carries."""
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}
