"""API settings (``MEDIAMIX_API_*``) and the resolved configuration the app runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mediamix.aws.storage import StorageConfig
from mediamix.secrets import is_secret_reference, reveal
from mediamix.settings import Settings, load_settings
from mediamix.tracking.config import TrackingConfig

__all__ = ["ApiConfig", "ApiSettings", "load_config"]


class ApiSettings(BaseSettings):
    """Service settings, read from the environment with the prefix ``MEDIAMIX_API_``.

    Attributes
    ----------
    database_url : str or None
        SQLAlchemy URL of the job and metadata database; default a SQLite file under
        ``MEDIAMIX_HOME/api`` (``postgresql+psycopg://...`` for several replicas). It
        may be a secret reference (``aws-secretsmanager://NAME[#KEY]``), since a
        PostgreSQL URL carries the password.
    max_upload_bytes, max_body_bytes : int
        Largest dataset upload, and largest request body of every other route (413).
    rate_per_minute, rate_burst : int
        Token bucket per API key (429 with ``Retry-After`` when empty).
    max_active_jobs : int
        Queued plus running jobs a tenant may have (429 beyond).
    job_max_attempts : int
        Attempts before a job whose worker died is failed instead of re-queued.
    lease_seconds : float
        How long a claim lasts without a heartbeat (heartbeats every third of it).
    request_timeout : float
        Seconds before a request is answered 503 ``timeout``.
    cors_origins : list of str
        Origins allowed by CORS; empty (the default) allows none.
    job_workers : int
        Worker processes ``mediamix serve`` starts beside the API (0: run
        ``mediamix worker`` separately).
    worker_nice : int
        How much those worker processes lower their CPU priority (``nice``, 0-19):
        a fit sharing the machine's cores with the API yields to requests, so
        predictions and health checks stay fast while it runs.
    worker_idle_priority : bool
        Also run those workers under Linux's ``SCHED_IDLE`` policy (default): a
        request handler that wakes up takes the core from a fit at once instead of
        sharing it by weight. Off: the nice value alone.
    key_cache_seconds : float
        How long an API process remembers an authenticated key instead of reading
        it from the database on every request (0: no cache). A revoked key stops
        working within this time.
    """

    model_config = SettingsConfigDict(env_prefix="MEDIAMIX_API_", extra="ignore")

    database_url: str | None = None
    max_upload_bytes: int = 200_000_000
    max_body_bytes: int = 1_000_000
    rate_per_minute: int = 600
    rate_burst: int = 60
    max_active_jobs: int = 4
    job_max_attempts: int = 2
    lease_seconds: float = 30.0
    request_timeout: float = 60.0
    cors_origins: list[str] = Field(default_factory=list)
    job_workers: int = 1
    worker_nice: int = Field(default=10, ge=0, le=19)
    worker_idle_priority: bool = True
    key_cache_seconds: float = Field(default=5.0, ge=0, le=300)


@dataclass(frozen=True)
class ApiConfig:
    """Everything the app and the workers need, resolved once by the shell.

    ``tracking`` says where fit jobs are tracked (``None`` or disabled: not tracked),
    as for ``mediamix fit``; ``storage``, the S3 store fitted models are published to
    (``models/<tenant>.<model id>``) and restored from on a replica that lacks them.
    """

    home: Path
    api: ApiSettings
    max_rows: int = 5_000_000
    max_columns: int = 2_000
    max_bytes: int = 1_000_000_000
    compile_cache: str | None = None
    tracking: TrackingConfig | None = None
    storage: StorageConfig | None = None
    tls_ca_bundle: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """Folder of the service's state: ``home/api``."""
        return self.home / "api"


def load_config(settings: Settings | None = None, api: ApiSettings | None = None) -> ApiConfig:
    """The configuration from the environment (``MEDIAMIX_*`` and ``MEDIAMIX_API_*``)."""
    from mediamix.warehouse.crypto import use_key_source

    s = settings or load_settings()
    api = api or ApiSettings()
    if is_secret_reference(api.database_url):
        # the URL carries the database password: it may live in a secrets manager
        url = reveal(api.database_url, setting="MEDIAMIX_API_DATABASE_URL")
        api = api.model_copy(update={"database_url": url})
    # the API and its workers open tenants' warehouses with the one configured key
    use_key_source(s.warehouse_encryption)
    return ApiConfig(
        home=s.home,
        api=api,
        max_rows=s.max_rows,
        max_columns=s.max_columns,
        max_bytes=s.max_bytes,
        compile_cache=s.compile_cache_dir(),
        tracking=s.tracking_config(),
        storage=s.storage_config(),
        tls_ca_bundle=s.tls_ca_bundle,
    )
