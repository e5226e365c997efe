"""Runtime settings, read from the environment (prefix ``MEDIAMIX_``) by the shells only.

Library code never reads the environment: the CLI, the API and the dashboard build a
:class:`Settings` once and pass the values they need down to the service layer.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediamix.aws.clients import AwsConfig
from mediamix.aws.storage import StorageConfig
from mediamix.secrets import resolve_secret, reveal
from mediamix.tracking.config import TrackingConfig
from mediamix.warehouse.crypto import WarehouseKey

__all__ = ["Settings", "load_settings"]


class Settings(BaseSettings):
    """mediamix settings.

    Attributes
    ----------
    home : Path
        Where all state of a default install lives (warehouse, registry, jobs):
        ``MEDIAMIX_HOME``, default ``~/.mediamix``.
    max_rows, max_columns, max_bytes : int
        Input size limits; a larger file is refused before it is parsed.
    log_level : str
        Logging level of the shells.
    compile_cache : bool
        Keep the Bayesian engine's compiled samplers under ``home/cache/jax`` so that
        later fits skip compilation (``MEDIAMIX_COMPILE_CACHE``, default true).
    tracking : bool
        Track every fit as an MLflow run (``MEDIAMIX_TRACKING``, default true).
    tracking_uri : str or None
        MLflow tracking and registry URI (``MEDIAMIX_TRACKING_URI``); default: SQLite
        under ``home/mlflow``, nothing to start.
    pseudonymize_key : SecretStr or None
        When set (``MEDIAMIX_PSEUDONYMIZE_KEY``), user ids of event logs are replaced
        by their keyed hash on ingest; erasure and export hash the ids given with it.
        Keep it in a secrets store: without it, pseudonymized users cannot be found.
    storage_uri : str or None
        ``s3://bucket/prefix`` where model artifacts, raw landing and reports are
        published as versions (``MEDIAMIX_STORAGE_URI``): with it, every successful
        ``fit``, ``report`` and ingest also publishes what it wrote, and commands that
        read a model accept ``s3://.../models/NAME[/VERSION]`` or ``store:NAME``
        (fetched and verified into ``home/cache/s3``). The local files stay the
        working copy. Default: none (local only).
    s3_kms_key_id : str or None
        KMS key of server-side encryption for every S3 put (``MEDIAMIX_S3_KMS_KEY_ID``);
        default: SSE-S3.
    aws_region, aws_endpoint_url : str or None
        Region and a single endpoint for every AWS service (``MEDIAMIX_AWS_REGION``,
        ``MEDIAMIX_AWS_ENDPOINT_URL``: LocalStack or a moto server); default: boto3's own.
    pipeline_config : Path or None
        The scheduled path's YAML configuration (``MEDIAMIX_PIPELINE_CONFIG``), read by
        the Airflow DAGs (docs/airflow.md).

    warehouse_key : SecretStr or None
        When set (``MEDIAMIX_WAREHOUSE_KEY``, a value or a secret reference), the
        warehouse is created and opened encrypted and raw landing files are sealed;
        without it an encrypted warehouse cannot be opened.
    warehouse_builtin_crypto : bool
        Write the encrypted warehouse with DuckDB's built-in crypto module when its
        OpenSSL module (the ``httpfs`` extension) is not installed
        (``MEDIAMIX_WAREHOUSE_BUILTIN_CRYPTO``, default false; see docs/security.md).

    tls_ca_bundle : Path or None
        PEM file of the CAs that outgoing TLS connections (PostgreSQL, SMTP, the
        MLflow server) trust instead of the system's (``MEDIAMIX_TLS_CA_BUNDLE``).
        Certificates are verified either way (:mod:`mediamix.tls`).

    Every setting that holds a credential may instead hold a reference
    (``aws-secretsmanager://NAME[#KEY]``, ``aws-ssm:///PATH[#KEY]``), resolved by
    :mod:`mediamix.secrets` when the credential is needed.
    """

    model_config = SettingsConfigDict(env_prefix="MEDIAMIX_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".mediamix")
    max_rows: int = 5_000_000
    max_columns: int = 2_000
    max_bytes: int = 1_000_000_000
    log_level: str = "WARNING"
    compile_cache: bool = True
    tracking: bool = True
    tracking_uri: str | None = None
    pseudonymize_key: SecretStr | None = None
    storage_uri: str | None = None
    s3_kms_key_id: str | None = None
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    pipeline_config: Path | None = None
    warehouse_key: SecretStr | None = None
    warehouse_builtin_crypto: bool = False
    tls_ca_bundle: Path | None = None

    def aws_config(self) -> AwsConfig:
        """Region, endpoint and encryption key of every AWS call."""
        return AwsConfig(
            region=self.aws_region or None,
            endpoint_url=self.aws_endpoint_url or None,
            kms_key_id=self.s3_kms_key_id or None,
        )

    def storage_config(self) -> StorageConfig:
        """The S3 store outputs are published to (none: local only), and its local cache."""
        return StorageConfig(
            uri=self.storage_uri or None,
            aws=self.aws_config(),
            cache=self.home / "cache" / "s3",
        )

    def pseudonymize_secret(self) -> str | None:
        """The pseudonymization key's value, or ``None`` when ids are kept as given."""
        return reveal(self.pseudonymize_key, setting="MEDIAMIX_PSEUDONYMIZE_KEY")

    def warehouse_encryption(self) -> WarehouseKey | None:
        """The warehouse key, resolved from its value or reference; ``None``: not encrypted."""
        secret = resolve_secret(self.warehouse_key, setting="MEDIAMIX_WAREHOUSE_KEY")
        if secret is None:
            return None
        return WarehouseKey(secret, allow_builtin_crypto=self.warehouse_builtin_crypto)

    def compile_cache_dir(self) -> str | None:
        """Where the Bayesian engine keeps compiled samplers; ``None`` when turned off."""
        return str(self.home / "cache" / "jax") if self.compile_cache else None

    def tracking_config(self, *, enabled: bool | None = None) -> TrackingConfig:
        """Where fits are tracked and models registered; ``enabled`` overrides ``tracking``."""
        return TrackingConfig(
            home=self.home,
            tracking_uri=self.tracking_uri or None,
            enabled=self.tracking if enabled is None else enabled,
        )


def load_settings() -> Settings:
    """Settings from the environment (``MEDIAMIX_*``) with defaults."""
    return Settings()
