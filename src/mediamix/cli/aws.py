"""``mediamix storage``, ``mediamix deploy sagemaker`` and ``mediamix train sagemaker``.

AWS calls go to the region and endpoint of ``MEDIAMIX_AWS_REGION`` and
``MEDIAMIX_AWS_ENDPOINT_URL`` (default: boto3's own); credentials come from
boto3's usual chain (environment, profile, instance role).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mediamix.cli.progress import working
from mediamix.settings import load_settings

__all__ = ["deploy_app", "storage_app", "train_app"]

_out = Console(soft_wrap=True, highlight=False)


def _typer(text: str) -> typer.Typer:
    return typer.Typer(help=text, no_args_is_help=True, add_completion=False, rich_markup_mode=None)


storage_app = _typer(
    "Versions of model artifacts, raw landing and reports in the S3 store "
    "(MEDIAMIX_STORAGE_URI=s3://bucket/prefix; SSE on every put, MEDIAMIX_S3_KMS_KEY_ID for KMS)."
)
deploy_app = _typer("Deploy models to managed serving.")
train_app = _typer("Run fits on managed training.")
sagemaker_app = _typer(
    "A SageMaker endpoint serving one model (/ping, /invocations): create, blue/green "
    "update, rollback, delete; auto scaling on invocations per instance."
)
deploy_app.add_typer(sagemaker_app, name="sagemaker")

_STORE = typer.Argument(help="Store: models, landing or reports.")
_NAME = typer.Argument(help="Name inside the store (letters, digits, '.', '_', '-').")


def _print(doc: Any) -> None:
    _out.print(json.dumps(doc, indent=2), markup=False)


@storage_app.command("publish")
def publish_cmd(
    store: Annotated[str, _STORE],
    name: Annotated[str, _NAME],
    folder: Annotated[Path, typer.Argument(help="Folder to publish (every file in it).")],
) -> None:
    """Upload a folder as a new version; prints the version id once it is visible."""
    from mediamix.service.cloud import publish_folder

    settings = load_settings()
    with working("uploading"):
        version = publish_folder(settings.storage_uri, settings.aws_config(), store, name, folder)
    _out.print(version, markup=False)


@storage_app.command("list")
def list_cmd(
    store: Annotated[str, _STORE],
    name: Annotated[str | None, typer.Argument(help="One name (default: all).")] = None,
) -> None:
    """Published versions (JSON: name -> versions, oldest first)."""
    from mediamix.service.cloud import list_versions

    settings = load_settings()
    _print(list_versions(settings.storage_uri, settings.aws_config(), store, name))


@storage_app.command("fetch")
def fetch_cmd(
    store: Annotated[str, _STORE],
    name: Annotated[str, _NAME],
    out: Annotated[Path, typer.Option(help="Folder to fill (atomically).")],
    version: Annotated[str | None, typer.Option(help="Version id (default: latest).")] = None,
) -> None:
    """Download a version; hashes (and a model's safe artifact) are checked before use."""
    from mediamix.service.cloud import fetch_version

    settings = load_settings()
    with working("downloading"):
        fetch_version(settings.storage_uri, settings.aws_config(), store, name, out, version)
    _out.print(f"wrote {out}", markup=False)


_ENDPOINT = typer.Option(help="Endpoint name.")
_IMAGE = typer.Option(help="ECR URI of the mediamix image (create, update).")
_ROLE = typer.Option(help="Execution role ARN SageMaker assumes (create, update).")


def _endpoint_spec(options: dict[str, Any]) -> Any:
    from mediamix.aws.sagemaker import EndpointSpec

    return EndpointSpec(**options)


def _deploy(
    action: str, spec_options: dict[str, Any], model: Path | None, model_data: str | None
) -> None:
    from mediamix.errors import InputError
    from mediamix.service.cloud import deploy_sagemaker, sagemaker_clients, upload_model_archive

    settings = load_settings()
    config = settings.aws_config()
    if action in ("create", "update"):
        if (model is None) == (model_data is None):
            raise InputError.single(
                "give exactly one of --model and --model-data", column="--model"
            )
        if model is not None:
            if not settings.storage_uri:
                raise InputError.single(
                    "--model needs MEDIAMIX_STORAGE_URI (where model.tar.gz is uploaded)",
                    column="--model",
                )
            from mediamix.aws.s3store import parse_s3_uri

            where = parse_s3_uri(settings.storage_uri).uri("deployments", spec_options["endpoint"])
            model_data = upload_model_archive(config, model, f"{where}/{_now()}")
    spec_options["model_data"] = model_data
    with working(f"{action} endpoint"):
        result = deploy_sagemaker(action, _endpoint_spec(spec_options), sagemaker_clients(config))
    _print(result)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _register_deploy_commands() -> None:
    for action, text in (
        ("create", "Create model, endpoint config and endpoint; auto scaling once InService."),
        (
            "update",
            "Deploy a new model blue/green; the old config is deleted once the new one serves.",
        ),
        ("rollback", "Serve the previous model again (blue/green)."),
    ):
        sagemaker_app.command(action, help=text)(_command(action))


def _command(action: str) -> Any:
    def command(  # noqa: PLR0913 -- one argument per command-line option (typer)
        endpoint: Annotated[str, _ENDPOINT],
        model: Annotated[
            Path | None, typer.Option(help="Fit output folder to package and upload.")
        ] = None,
        model_data: Annotated[
            str | None, typer.Option(help="s3:// URI of an existing model.tar.gz.")
        ] = None,
        image: Annotated[str | None, _IMAGE] = None,
        role_arn: Annotated[str | None, _ROLE] = None,
        instance_type: Annotated[str, typer.Option(help="Instance type.")] = "ml.m5.large",
        min_instances: Annotated[int, typer.Option(min=1, help="Auto scaling minimum.")] = 1,
        max_instances: Annotated[int, typer.Option(min=1, help="Auto scaling maximum.")] = 5,
        instance_capacity: Annotated[
            float,
            typer.Option(min=1.0, help="Invocations per minute one instance sustains (load test)."),
        ] = 100.0,
        target_utilization: Annotated[
            float, typer.Option(min=0.05, max=1.0, help="Share of capacity auto scaling targets.")
        ] = 0.70,
        kms_key_id: Annotated[
            str | None, typer.Option(help="KMS key for the instances' storage volumes.")
        ] = None,
    ) -> None:
        spec = {
            "endpoint": endpoint,
            "image": image,
            "role_arn": role_arn,
            "instance_type": instance_type,
            "min_instances": min_instances,
            "max_instances": max_instances,
            "instance_capacity": instance_capacity,
            "target_utilization": target_utilization,
            "kms_key_id": kms_key_id,
        }
        _deploy(action, spec, model, model_data)

    command.__name__ = f"{action}_cmd"
    return command


_register_deploy_commands()


@sagemaker_app.command("delete")
def delete_cmd(endpoint: Annotated[str, _ENDPOINT]) -> None:
    """Delete auto scaling, the endpoint, its config and its models."""
    _deploy("delete", {"endpoint": endpoint}, None, None)


@train_app.command("sagemaker")
def train_sagemaker_cmd(  # noqa: PLR0913 -- one argument per command-line option (typer)
    input_uri: Annotated[
        str, typer.Option("--input", help="s3:// prefix holding the spec and its data.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for the fit output (verified).")],
    image: Annotated[str, _IMAGE],
    role_arn: Annotated[str, _ROLE],
    output_uri: Annotated[
        str | None,
        typer.Option(
            "--output",
            help="s3:// prefix of the job's model.tar.gz "
            "(default: <MEDIAMIX_STORAGE_URI>/training).",
        ),
    ] = None,
    spec: Annotated[str, typer.Option(help="Spec file inside --input.")] = "spec.yaml",
    engine: Annotated[str, typer.Option(help="ridge or bayes.")] = "ridge",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    job_name: Annotated[
        str | None, typer.Option(help="Job name (default: mediamix-<time>).")
    ] = None,
    instance_type: Annotated[str, typer.Option(help="Instance type.")] = "ml.m5.large",
    publish: Annotated[
        str | None, typer.Option(help="Also publish the fit output as models/<NAME>.")
    ] = None,
) -> None:
    """Run a fit as a SageMaker training job reading its input from S3; the model comes back
    as a verified fit output folder."""
    from mediamix.aws.s3store import parse_s3_uri
    from mediamix.aws.sagemaker import TrainingSpec
    from mediamix.errors import InputError
    from mediamix.service.cloud import sagemaker_clients, train_sagemaker

    settings = load_settings()
    config = settings.aws_config()
    if output_uri is None:
        if not settings.storage_uri:
            raise InputError.single("give --output or set MEDIAMIX_STORAGE_URI", column="--output")
        output_uri = parse_s3_uri(settings.storage_uri).uri("training")
    for value, flag in ((input_uri, "--input"), (output_uri, "--output")):
        if not value.startswith("s3://"):
            raise InputError.single(f"expected an s3:// URI, found {value!r}", column=flag)
    job = TrainingSpec(
        job_name=job_name or f"mediamix-{_now().lower()}",
        image=image,
        role_arn=role_arn,
        input_uri=input_uri,
        output_uri=output_uri,
        spec=spec,
        engine=engine,
        seed=seed,
        instance_type=instance_type,
        output_kms_key_id=settings.s3_kms_key_id,
    )
    target = (settings.storage_uri, config, publish) if publish else None
    with working("training job"):
        result = train_sagemaker(job, sagemaker_clients(config), out, publish=target)
    _print(result)
