"""Use cases on AWS: publish and fetch store versions, deploy and train on SageMaker.

The shells build an :class:`~mediamix.aws.clients.AwsConfig` from the settings and
pass it here; nothing here reads the environment.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from mediamix.aws.clients import AwsConfig
from mediamix.aws.s3store import S3Store, parse_s3_uri
from mediamix.aws.sagemaker import (
    EndpointSpec,
    SageMakerClients,
    TrainingSpec,
    create_endpoint,
    delete_endpoint,
    model_archive,
    rollback_endpoint,
    run_training_job,
    update_endpoint,
)
from mediamix.errors import InputError

__all__ = [
    "DeployAction",
    "deploy_sagemaker",
    "drift_from_store",
    "fetch_version",
    "list_versions",
    "plan_from_store",
    "publish_folder",
    "sagemaker_clients",
    "train_sagemaker",
    "upload_model_archive",
]

log = logging.getLogger(__name__)


class DeployAction(StrEnum):
    """What ``mediamix deploy sagemaker`` does to an endpoint."""

    CREATE = "create"
    UPDATE = "update"
    ROLLBACK = "rollback"
    DELETE = "delete"


def _store(storage_uri: str | None, config: AwsConfig) -> S3Store:
    from mediamix.service.storage import open_store

    return open_store(storage_uri, config)


def publish_folder(
    storage_uri: str | None, config: AwsConfig, store: str, name: str, folder: str | Path
) -> str:
    """Publish ``folder`` as a new version of ``store/name``; the version id."""
    return _store(storage_uri, config).publish(store, name, folder)


def list_versions(
    storage_uri: str | None, config: AwsConfig, store: str, name: str | None = None
) -> dict[str, list[str]]:
    """Published versions per name under ``store`` (or of one name)."""
    s3 = _store(storage_uri, config)
    names = [name] if name else s3.names(store)
    return {n: s3.versions(store, n) for n in names}


def fetch_version(
    storage_uri: str | None,
    config: AwsConfig,
    store: str,
    name: str,
    dest: str | Path,
    version: str | None = None,
) -> Path:
    """Download a verified version (default: the latest) into ``dest``."""
    return _store(storage_uri, config).fetch(store, name, dest, version)


def sagemaker_clients(config: AwsConfig, **waiting: Any) -> SageMakerClients:
    """SageMaker, Application Auto Scaling and S3 clients of ``config``."""
    return SageMakerClients(
        sagemaker=config.client("sagemaker"),
        autoscaling=config.client("application-autoscaling"),
        s3=config.client("s3"),
        **waiting,
    )


def upload_model_archive(config: AwsConfig, folder: str | Path, uri: str) -> str:
    """Package a fit output (checked) as ``model.tar.gz`` at ``uri/model.tar.gz``; its URI."""
    location = parse_s3_uri(uri)
    key = location.key("model.tar.gz")
    config.client("s3").put_object(
        Bucket=location.bucket, Key=key, Body=model_archive(folder), **config.sse_arguments()
    )
    return f"s3://{location.bucket}/{key}"


def deploy_sagemaker(
    action: DeployAction | str, spec: EndpointSpec, clients: SageMakerClients
) -> dict[str, Any]:
    """Create, update (blue/green), roll back or delete the endpoint of ``spec``."""
    action = DeployAction(action)
    if action == DeployAction.CREATE:
        return create_endpoint(clients, spec)
    if action == DeployAction.UPDATE:
        return update_endpoint(clients, spec)
    if action == DeployAction.ROLLBACK:
        return rollback_endpoint(clients, spec)
    return delete_endpoint(clients, spec.endpoint)


def train_sagemaker(
    spec: TrainingSpec,
    clients: SageMakerClients,
    out: str | Path,
    *,
    publish: tuple[str | None, AwsConfig, str] | None = None,
) -> dict[str, Any]:
    """Run a fit as a SageMaker training job and write its verified fit output to ``out``.

    With ``publish`` (``storage_uri``, config, model name), the fit output is also
    published as a new version of ``models/<name>``.
    """
    out = Path(out)
    scratch = Path(tempfile.mkdtemp(prefix="mediamix-train-"))
    try:
        outcome = run_training_job(clients, spec, scratch / "model")
        from mediamix.io.atomic import atomic_dir

        with atomic_dir(out) as tmp:
            for entry in (scratch / "model").iterdir():
                shutil.move(str(entry), tmp / entry.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if publish is not None:
        storage_uri, config, name = publish
        outcome["published"] = {
            "name": name,
            "version": publish_folder(storage_uri, config, "models", name, out),
        }
    outcome["out"] = str(out)
    return outcome


def plan_from_store(
    storage_uri: str | None,
    config: AwsConfig,
    model: str,
    request: dict[str, Any],
    *,
    version: str | None = None,
    cache: Path | None = None,
) -> dict[str, Any]:
    """The plan.json document for ``request`` (budget, constraints, ...) on a stored model.

    The model is the latest (or the given) version of ``models/<model>``, fetched and
    verified once into ``cache`` (a warm Lambda reuses it).
    """
    from mediamix.models.response import FittedResponse
    from mediamix.service.fit import load_model
    from mediamix.service.optimize import optimize
    from mediamix.service.requests import OptimizeRequest, parse_request

    req = parse_request(OptimizeRequest, request)
    s3 = _store(storage_uri, config)
    version = version or s3.latest("models", model)
    root = cache or Path(tempfile.mkdtemp(prefix="mediamix-model-"))
    folder = root / model / version
    if not (folder / "model" / "manifest.json").is_file():
        s3.fetch("models", model, folder, version)
    result = load_model(folder)  # the safe-artifact checks run on every load
    plan = optimize(req, response_model=FittedResponse(result, req.periods))
    return {**plan.to_dict(), "model": {"name": model, "version": version}}


def drift_from_store(
    storage_uri: str | None,
    config: AwsConfig,
    model: str,
    data: str,
    *,
    thresholds: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Check the latest ``landing/<data>`` (a spec and its new weeks) against ``models/<model>``.

    The report (``drift.json``, ``drift.html``) is published as a version of
    ``reports/drift-<model>``; returns whether retraining is due, why, and where the
    report is.
    """
    import json

    from mediamix.service.drift import drift_check

    s3 = _store(storage_uri, config)
    scratch = Path(tempfile.mkdtemp(prefix="mediamix-drift-"))
    try:
        model_version = s3.latest("models", model)
        data_version = s3.latest("landing", data)
        s3.fetch("models", model, scratch / "model", model_version)
        s3.fetch("landing", data, scratch / "data", data_version)
        spec = scratch / "data" / "spec.yaml"
        if not spec.is_file():
            raise InputError.single(
                "the landing version has no spec.yaml", file=s3.root.uri("landing", data)
            )
        limits = None
        if thresholds:
            limits = scratch / "thresholds.json"
            limits.write_text(json.dumps(thresholds))
        outcome = drift_check(scratch / "model", spec, scratch / "report", thresholds=limits)
        report_name = f"drift-{model}"
        report_version = s3.publish("reports", report_name, scratch / "report")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "retrain": outcome.report.retrain,
        "reasons": outcome.report.reasons,
        "model": {"name": model, "version": model_version},
        "data": {"name": data, "version": data_version},
        "report": {"name": report_name, "version": report_version},
    }
