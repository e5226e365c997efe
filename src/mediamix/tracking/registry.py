"""The model registry on MLflow: register, list, show, alias, and fetch verified copies.

A registered version is an MLflow pyfunc model written as models-from-code (the
script is :mod:`mediamix.tracking.pyfunc_code`; nothing pickled) whose artifacts
are the safe model folder and its ``summary.json``. The version records the
SHA-256 of the folder's ``manifest.json``, so a copy fetched from the artifact store
is trusted only if its manifest is the one that was registered *and* its files
match that manifest.

References: ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediamix import __version__
from mediamix.errors import InputError, MediamixError
from mediamix.io.artifacts import load_artifact, sha256_file
from mediamix.models.info import EngineInfo
from mediamix.secrets import redact_url
from mediamix.tracking.config import TrackingConfig
from mediamix.tracking.worker import ensure_experiment, open_store

__all__ = [
    "ALIASES",
    "ModelRef",
    "Registry",
    "RegistryError",
    "is_registry_ref",
    "parse_ref",
]

log = logging.getLogger(__name__)

ALIASES = ("champion", "challenger")
ARTIFACT_NAME = "mediamix_model"
CODE_FILE = Path(__file__).with_name("pyfunc_code.py")
_REF = re.compile(
    r"^models:/(?P<name>[A-Za-z0-9_.\-]+)(?:/(?P<version>[0-9]+)|@(?P<alias>[A-Za-z0-9_\-]+))$"
)
# what a registered mediamix model folder may hold; anything else is refused
_MODEL_FILES = {
    "MLmodel",
    "conda.yaml",
    "python_env.yaml",
    "requirements.txt",
    "registered_model_meta",
    CODE_FILE.name,
}
_ARTIFACT_FILES = {
    "artifacts/model/model.json",
    "artifacts/model/arrays.npz",
    "artifacts/model/manifest.json",
    "artifacts/model/lineage.json",
    "artifacts/summary.json",
}


class RegistryError(MediamixError):
    """The registry could not be reached or refused an operation."""


@dataclass(frozen=True)
class ModelRef:
    """A parsed registry reference."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return f"models:/{self.name}" + (
            f"/{self.version}" if self.version is not None else f"@{self.alias}"
        )


def is_registry_ref(value: str | Path) -> bool:
    """True for ``models:/...`` references (anything else is a folder path)."""
    return str(value).startswith("models:/")


def parse_ref(value: str | Path) -> ModelRef:
    """Parse ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``.

    Examples
    --------
    >>> parse_ref("models:/brand/3")
    ModelRef(name='brand', version=3, alias=None)
    >>> parse_ref("models:/brand@champion").alias
    'champion'
    """
    match = _REF.match(str(value))
    if match is None:
        raise InputError.single(
            f"'{value}' is not a registry reference (models:/NAME/VERSION or models:/NAME@ALIAS)",
            column="--model",
        )
    version = match["version"]
    return ModelRef(match["name"], int(version) if version else None, match["alias"])


def _model_dir(folder: Path) -> tuple[Path, Path | None]:
    """The safe model folder and the summary.json of a fit output (or model) folder."""
    folder = Path(folder)
    if (folder / "model" / "manifest.json").is_file():
        summary = folder / "summary.json"
        return folder / "model", summary if summary.is_file() else None
    if (folder / "manifest.json").is_file():
        summary = folder.parent / "summary.json"
        return folder, summary if summary.is_file() else None
    raise InputError.single("not a fit output or model folder (no manifest.json)", file=str(folder))


class Registry:
    """MLflow model registry access for mediamix models."""

    def __init__(self, config: TrackingConfig) -> None:
        self.config = config
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The MLflow client (imported on first use)."""
        if self._client is None:
            # MLflow draws progress bars and prints run URLs; library code never prints
            os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
            self._client = open_store(self.config.uri)
        return self._client

    # ---- register ----------------------------------------------------------
    def register(self, folder: str | Path, name: str) -> dict[str, Any]:
        """Register a fit output folder as a new version of ``name``; returns the version.

        The folder is verified first (a tampered or unsafe artifact is refused and
        nothing is registered). The pyfunc model is logged in a run of its own,
        linked to the fit's run when the fit was tracked in this store; the version
        is created only after every file is stored, so an interrupted registration
        leaves no version behind.
        """
        import mlflow

        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise InputError.single(
                f"model name '{name}' may hold only letters, digits, '.', '_' and '-'",
                column="--name",
            )
        model_dir, summary_path = _model_dir(Path(folder))
        meta, _ = load_artifact(model_dir)
        if meta.get("kind") != "mmm":
            raise InputError.single(
                f"not an MMM artifact (kind {meta.get('kind')!r})", file=str(model_dir)
            )
        summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path else {}
        fit_run_id = self._fit_run(summary)
        client = self.client
        experiment_id = ensure_experiment(client, self.config.experiment, self.config.artifact_root)
        tags = {
            "mediamix.kind": "register",
            "mediamix.version": __version__,
            "mediamix.model_name": name,
            **({"mlflow.parentRunId": fit_run_id} if fit_run_id else {}),
        }
        run = client.create_run(experiment_id, run_name=f"register-{name}", tags=tags)
        run_id = run.info.run_id
        mlflow.set_tracking_uri(self.config.uri)
        mlflow.set_registry_uri(self.config.uri)
        artifacts = {"model": str(model_dir)}
        if summary_path is not None:
            artifacts["summary"] = str(summary_path)
        try:
            with mlflow.start_run(run_id=run_id):
                info = mlflow.pyfunc.log_model(
                    name=ARTIFACT_NAME,
                    python_model=str(CODE_FILE),
                    artifacts=artifacts,
                    pip_requirements=[f"mediamix=={__version__}"],
                )
            version_tags = {
                "mediamix.manifest_sha256": sha256_file(model_dir / "manifest.json"),
                "mediamix.registered_by": getpass.getuser(),
                "mediamix.engine": str(meta.get("engine")),
            }
            if fit_run_id:
                version_tags["mediamix.fit_run_id"] = fit_run_id
            holdout = EngineInfo.from_dict(summary.get("info")).holdout_nrmse
            if holdout is not None:
                version_tags["mediamix.holdout_nrmse"] = repr(holdout)
            version = client.create_model_version(
                name=self._ensure_model(name),
                source=info.model_uri,
                run_id=run_id,
                tags=version_tags,
                model_id=info.model_id,
            )
        except Exception:
            client.set_terminated(run_id, status="FAILED")
            raise
        return self._version_dict(version)

    def _fit_run(self, summary: Mapping[str, Any]) -> str | None:
        """The fit's run id when it was tracked in this store and finished."""
        ref = summary.get("tracking") or {}
        run_id = ref.get("run_id")
        if not run_id or ref.get("tracking_uri") != redact_url(self.config.uri):
            return None
        from mlflow.exceptions import MlflowException

        try:
            run = self.client.get_run(run_id)
        except MlflowException:
            return None
        if run.info.status != "FINISHED":
            raise InputError.single(
                f"the fit's run {run_id} is {run.info.status}: a model from an incomplete "
                "fit is not registered"
            )
        return str(run_id)

    def _ensure_model(self, name: str) -> str:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException:
            try:
                self.client.create_registered_model(name)
            except MlflowException:
                self.client.get_registered_model(name)  # created by a concurrent registration
        return name

    # ---- read ----------------------------------------------------------------
    def _version_dict(self, v: Any) -> dict[str, Any]:
        return {
            "name": v.name,
            "version": int(v.version),
            "aliases": sorted(getattr(v, "aliases", []) or []),
            "run_id": v.run_id,
            "status": v.status,
            "created": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(v.creation_timestamp) / 1000)
            ),
            "tags": dict(v.tags or {}),
        }

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every READY version of ``name``, oldest first."""
        found = self.client.search_model_versions(f"name = '{name}'")
        out = [self._version_dict(v) for v in found if v.status == "READY"]
        aliases = self.client.get_registered_model(name).aliases or {}
        by_version: dict[int, list[str]] = {}
        for alias, number in aliases.items():
            by_version.setdefault(int(number), []).append(alias)
        for v in out:
            v["aliases"] = sorted(by_version.get(v["version"], []))
        return sorted(out, key=lambda v: v["version"])

    def list_models(self) -> list[dict[str, Any]]:
        """Every registered model with its versions (``mediamix models list --json``, docs/cli.md)."""
        models = self.client.search_registered_models()
        return [{"name": m.name, "versions": self.versions(m.name)} for m in models]

    def resolve(self, ref: ModelRef | str) -> dict[str, Any]:
        """The version a reference points to (an alias is looked up now)."""
        from mlflow.exceptions import MlflowException

        ref = parse_ref(ref) if isinstance(ref, str) else ref
        try:
            if ref.alias is not None:
                v = self.client.get_model_version_by_alias(ref.name, ref.alias)
            else:
                v = self.client.get_model_version(ref.name, str(ref.version))
        except MlflowException as exc:
            raise InputError.single(
                f"{ref} is not in the registry ({exc.message})", column="--model"
            ) from None
        info = self._version_dict(v)
        if info["status"] != "READY":
            raise InputError.single(f"{ref} is {info['status']}, not ready", column="--model")
        return info

    # ---- aliases ---------------------------------------------------------------
    def set_alias(self, name: str, version: int, alias: str, record: Mapping[str, Any]) -> None:
        """Point ``alias`` at ``version`` and record the decision on the version."""
        if alias not in ALIASES:
            raise InputError.single(
                f"alias must be one of {', '.join(ALIASES)}, not '{alias}'", column="--alias"
            )
        self.resolve(ModelRef(name, version))
        self.client.set_model_version_tag(
            name, str(version), f"mediamix.promotion.{alias}", json.dumps(dict(record), default=str)
        )
        self.client.set_registered_model_alias(name, alias, str(version))

    def record(self, name: str, version: int, key: str, value: Mapping[str, Any]) -> None:
        """Store a JSON record as a tag on a version."""
        self.client.set_model_version_tag(
            name, str(version), key, json.dumps(dict(value), default=str)
        )

    # ---- fetch -----------------------------------------------------------------
    def fetch(self, ref: ModelRef | str) -> Path:
        """A verified local copy of a registered model: a folder with ``model/`` and ``summary.json``.

        Copies are cached under ``MEDIAMIX_HOME/cache/registry`` and verified again on
        every fetch; the copy must hold only the files a mediamix model holds, its
        models-from-code script must be this package's, its manifest must be the
        one recorded at registration and its files must match the manifest.
        """
        info = self.resolve(ref)
        expected = info["tags"].get("mediamix.manifest_sha256")
        if not expected:
            raise InputError.single(
                f"models:/{info['name']}/{info['version']} was not registered by mediamix "
                "(no manifest checksum recorded)",
                column="--model",
            )
        target = self.config.cache_dir / info["name"] / str(info["version"])
        if not target.is_dir():
            self._download(info, target)
        _verify_copy(target, expected)
        return target / "artifacts"

    def _download(self, info: Mapping[str, Any], target: Path) -> None:
        from mlflow.artifacts import download_artifacts

        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            source = self.client.get_model_version_download_uri(info["name"], str(info["version"]))
            local = Path(
                download_artifacts(
                    artifact_uri=source, dst_path=str(tmp), tracking_uri=self.config.uri
                )
            )
            _verify_copy(local, info["tags"]["mediamix.manifest_sha256"])
            try:
                local.rename(target)
            except OSError:
                if not target.is_dir():  # lost a race to another fetch of the same version
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def _verify_copy(root: Path, manifest_sha256: str) -> None:
    """Refuse a downloaded model folder that is not exactly a registered mediamix model."""
    files = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise InputError.single(
                f"refused registered model: {rel} is a symbolic link", file=str(path)
            )
        if path.is_file():
            files.add(rel)
    unexpected = sorted(files - _MODEL_FILES - _ARTIFACT_FILES)
    if unexpected:
        raise InputError.single(
            f"refused registered model: unexpected files {unexpected}", file=str(root)
        )
    code = root / CODE_FILE.name
    if not code.is_file() or code.read_bytes() != CODE_FILE.read_bytes():
        raise InputError.single(
            "refused registered model: its models-from-code script is not mediamix's",
            file=str(code),
        )
    manifest = root / "artifacts" / "model" / "manifest.json"
    if not manifest.is_file() or sha256_file(manifest) != manifest_sha256:
        raise InputError.single(
            "refused registered model: manifest.json is not the one registered "
            "(checksum differs from the registry's record)",
            file=str(manifest),
        )
    load_artifact(manifest.parent)
