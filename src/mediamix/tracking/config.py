"""Where tracking goes: the MLflow tracking URI and whether fits are tracked at all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["EXPERIMENT", "TrackingConfig"]

EXPERIMENT = "mediamix"


@dataclass(frozen=True)
class TrackingConfig:
    """How fits are tracked and where the registry lives.

    Attributes
    ----------
    home : Path
        ``MEDIAMIX_HOME``: the embedded store is ``home/mlflow/mlflow.db`` (SQLite)
        with artifacts under ``home/mlflow/artifacts``, so nothing has to be started.
    tracking_uri : str or None
        Any MLflow tracking URI (``http://host:5000``, ``sqlite:///...``); ``None``
        means the embedded store.
    enabled : bool
        Track fits at all (``--no-track`` or ``MEDIAMIX_TRACKING=false`` turn it off);
        the registry commands work either way.
    experiment : str
        MLflow experiment of the fit runs.

    Examples
    --------
    >>> cfg = TrackingConfig(home=Path("/tmp/mm"))
    >>> cfg.uri
    'sqlite:////tmp/mm/mlflow/mlflow.db'
    >>> TrackingConfig(home=Path("/tmp/mm"), tracking_uri="http://127.0.0.1:5000").uri
    'http://127.0.0.1:5000'
    """

    home: Path
    tracking_uri: str | None = None
    enabled: bool = True
    experiment: str = EXPERIMENT

    @property
    def embedded(self) -> bool:
        """True when the store is the SQLite file under ``home``."""
        return not self.tracking_uri

    @property
    def uri(self) -> str:
        """The tracking URI in use (also the registry URI)."""
        if self.tracking_uri:
            return self.tracking_uri
        return f"sqlite:///{(Path(self.home) / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def artifact_root(self) -> str | None:
        """Artifact location of new experiments in the embedded store (server: its own)."""
        if not self.embedded:
            return None
        return (Path(self.home) / "mlflow" / "artifacts").resolve().as_uri()

    @property
    def cache_dir(self) -> Path:
        """Where verified copies of registered models are kept for loading."""
        return Path(self.home) / "cache" / "registry"
