"""The ``mediamix`` command line.

Exit codes (docs/cli.md): 0 success; 2 bad input or usage, with a message on
stderr naming file, row and column, and nothing written; 1 internal error. No
Python traceback is shown for user errors.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mediamix import __version__
from mediamix.cli.flags import as_flags
from mediamix.cli.progress import err_console, progress_bar
from mediamix.errors import InputError, MediamixError, Problem
from mediamix.settings import Settings, load_settings

if TYPE_CHECKING:
    from mediamix.io.table import ReadLimits

app = typer.Typer(
    name="mediamix",
    help="Media mix modeling, budget optimization and attribution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out_console = Console(soft_wrap=True)

__all__ = ["app", "main"]


def _settings() -> Settings:
    return load_settings()


def _limits() -> ReadLimits:
    from mediamix.io.table import ReadLimits

    s = _settings()
    return ReadLimits(max_rows=s.max_rows, max_columns=s.max_columns, max_bytes=s.max_bytes)


def _model_folder(model: Path | str) -> Path:
    """A folder for ``--model``: itself, or a verified copy of a ``models:/`` reference
    or of a stored model (``s3://.../models/NAME[/VERSION]``, ``store:NAME``)."""
    from mediamix.service.registry import resolve_model

    settings = _settings()
    return resolve_model(str(model), settings.tracking_config(), settings.storage_config())


def _print_problems(problems: Sequence[Problem], *, title: str) -> None:
    if not problems:
        return
    err_console.print(title)
    for p in problems:
        err_console.print(f"  {p.severity}: {p}", markup=False)


def _version(value: bool) -> None:
    if value:
        out_console.print(f"mediamix {__version__}")
        raise typer.Exit()


def _trust_for_mlflow(ca_bundle: Path | None) -> None:
    """Point MLflow's client at the CA bundle; say so when its checks are turned off."""
    import os

    if ca_bundle is not None:
        os.environ.setdefault("MLFLOW_TRACKING_SERVER_CERT_PATH", str(ca_bundle))
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() in {"1", "true"}:
        logging.getLogger("mediamix").warning(
            "MLFLOW_TRACKING_INSECURE_TLS is set: the MLflow server's certificate is not checked"
        )


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Media mix modeling, budget optimization and attribution."""
    from mediamix.warehouse.crypto import use_key_source

    settings = _settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    # resolved when a warehouse is opened, so commands that never open one make no
    # call to a secrets manager
    use_key_source(settings.warehouse_encryption)
    _trust_for_mlflow(settings.tls_ca_bundle)


@app.command("validate")
def validate_cmd(
    spec: Annotated[Path, typer.Argument(help="Model spec (YAML).")],
    engine: Annotated[
        str, typer.Option(help="Engine whose requirements apply: ridge|bayes.")
    ] = "ridge",
) -> None:
    """Check a spec and its data; print every problem (exit 2 when there are errors)."""
    from mediamix.service.data import validate_spec

    _, report = validate_spec(spec, engine=engine, limits=_limits(), home=_settings().home)
    _print_problems(report.warnings, title=f"{len(report.warnings)} warning(s):")
    if not report.ok:
        raise InputError(report.problems)
    ds = report.dataset
    assert ds is not None  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    out_console.print(
        f"{report.source}: OK - {ds.n_periods} {ds.frequency.value} periods "
        f"({ds.dates[0]} to {ds.dates[-1]}), {ds.n_geos} geo(s), {ds.n_channels} channels, "
        f"{len(ds.control_names)} controls, {len(ds.event_names)} events",
        markup=False,
    )


@app.command("synth")
def synth_cmd(
    out: Annotated[Path, typer.Option(help="Folder for synth.csv, spec.yaml and truth.json.")],
    seed: Annotated[int, typer.Option(help="Random seed; output is deterministic by seed.")] = 0,
    weeks: Annotated[int, typer.Option(min=20, max=2000)] = 156,
    channels: Annotated[int, typer.Option(min=1, max=50)] = 4,
    geos: Annotated[int, typer.Option(min=1, max=500)] = 1,
    noise: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Noise sd as a share of mean KPI.")
    ] = 0.04,
    media_share: Annotated[
        float | None, typer.Option(min=0.01, max=0.9, help="Share of KPI from paid media.")
    ] = None,
    kpi_type: Annotated[str, typer.Option(help="revenue|conversions")] = "revenue",
) -> None:
    """Write synthetic data with known truth (CSV, spec and truth.json)."""
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.requests import SynthRequest, parse_request
    from mediamix.service.synth import write_synth

    request = parse_request(
        SynthRequest,
        {
            "seed": seed,
            "weeks": weeks,
            "channels": channels,
            "geos": geos,
            "noise": noise,
            "media_share": media_share,
            "kpi_type": kpi_type,
        },
    )
    spec_path, result = write_synth(out, SynthConfig(**request.model_dump()))
    table = Table(title=f"true channel effects (seed {seed})")
    for column in ("channel", "spend", "contribution", "roi", "mroi", "adstock", "saturation"):
        table.add_column(column)
    for name, c in result.truth["channels"].items():
        table.add_row(
            name,
            f"{c['spend']:,.0f}",
            f"{c['contribution']:,.0f}",
            _num(c["roi"]),
            _num(c["mroi"]),
            c["adstock"]["type"],
            c["saturation"]["type"],
        )
    out_console.print(table)
    out_console.print(f"wrote {out / 'synth.csv'}, {spec_path}, {out / 'truth.json'}", markup=False)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


@app.command("fit")
def fit_cmd(
    spec: Annotated[Path, typer.Argument(help="Model spec (YAML).")],
    out: Annotated[
        Path, typer.Option(help="Output folder: summary.json, decomposition.csv, model/.")
    ],
    engine: Annotated[str, typer.Option(help="ridge|bayes|r-glmnet")] = "ridge",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    method: Annotated[
        str | None, typer.Option(help="bayes: nuts (default), svi or map (fast looks).")
    ] = None,
    chains: Annotated[int | None, typer.Option(help="bayes: NUTS chains (default: cores).")] = None,
    warmup: Annotated[int | None, typer.Option(help="bayes: warmup per chain (1000).")] = None,
    draws: Annotated[int | None, typer.Option(help="bayes: draws per chain (1000).")] = None,
    geo_model: Annotated[
        bool,
        typer.Option(
            "--geo-model",
            help="bayes, geo data: fit the geo hierarchy (geo levels and media effects "
            "pooled toward national) instead of summing geos to national; slower.",
        ),
    ] = False,
    no_track: Annotated[
        bool, typer.Option("--no-track", help="Do not track this fit in MLflow.")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            help="With MEDIAMIX_STORAGE_URI: publish as models/NAME (default: the --out "
            "folder's name)."
        ),
    ] = None,
) -> None:
    """Fit a model and write summary.json, decomposition.csv and model/.

    With MEDIAMIX_STORAGE_URI set, the output is also published to the S3 store as a
    new version of models/NAME; a fit that fails publishes nothing.
    """
    from mediamix.service.fit import fit
    from mediamix.service.storage import Publication

    sampler = {
        "method": method,
        "chains": chains,
        "warmup": warmup,
        "draws": draws,
        "geo_hierarchy": True if geo_model else None,
    }
    request: dict[str, Any] = {"engine": engine, "seed": seed}
    chosen = {k: v for k, v in sampler.items() if v is not None}
    if chosen or engine == "bayes":
        cache = _settings().compile_cache_dir() if engine == "bayes" else None
        request["sampler"] = chosen | ({"compile_cache": cache} if cache else {})
    with progress_bar(f"fit ({engine})") as update:
        outcome = fit(
            spec,
            out,
            request,
            limits=_limits(),
            progress=update,
            home=_settings().home,
            tracking=_settings().tracking_config(enabled=False if no_track else None),
            publish=Publication(_settings().storage_config(), name),
        )
    for w in outcome.warnings:
        err_console.print(f"warning: {w}", markup=False)
    _print_summary(outcome.summary)
    diagnostics = outcome.result.engine_info.diagnostics
    for w in diagnostics.warnings if diagnostics is not None else ():
        err_console.print(f"diagnostics: {w}", markup=False)
    for entry in outcome.summary.get("identification", []):
        err_console.print(f"not identified: {entry['message']}", markup=False)
    out_console.print(
        f"wrote {out / 'summary.json'}, {out / 'decomposition.csv'}, {out / 'model'}", markup=False
    )
    tracked = outcome.summary.get("tracking")
    if tracked:
        out_console.print(
            f"tracked as MLflow run {tracked['run_id']} at {tracked['tracking_uri']}", markup=False
        )
    if outcome.published is not None:
        out_console.print(f"published {outcome.published.uri}", markup=False)


def _print_summary(summary: dict[str, object]) -> None:
    table = Table(
        title=f"{summary['engine']} model of {summary['kpi']} "
        f"({summary['start']} to {summary['end']})"
    )
    for column in ("channel", "spend", "contribution", "share", "roi", "mroi", "cpa", "roi 90%"):
        table.add_column(column, justify="right")
    channels = summary["channels"]
    assert isinstance(channels, dict)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    for name, c in channels.items():
        interval = c.get("roi_interval")
        table.add_row(
            name,
            f"{c['spend']:,.0f}",
            f"{c['contribution']:,.0f}",
            _num(c["contribution_share"]),
            _num(c["roi"]),
            _num(c["mroi"]),
            _num(c["cpa"]),
            f"{interval[0]:.2f}-{interval[1]:.2f}" if interval else "-",
        )
    out_console.print(table)
    metrics = summary["metrics"]
    assert isinstance(metrics, dict)  # noqa: S101 -- type narrowing of an internal invariant, not input validation
    out_console.print(
        "fit: " + ", ".join(f"{k} {_num(v)}" for k, v in metrics.items()), markup=False
    )


@app.command("decompose")
def decompose_cmd(
    model: Annotated[
        str,
        typer.Argument(
            help="Fit output folder (or its model/ folder), models:/ reference, or stored "
            "model (s3://bucket/prefix/models/NAME[/VERSION], store:NAME[/VERSION])."
        ),
    ],
    out: Annotated[Path, typer.Option(help="CSV to write.")],
    data: Annotated[
        Path | None,
        typer.Option(
            help="Spec of NEW periods to decompose (continuing the window); default: the window."
        ),
    ] = None,
) -> None:
    """Write the per-period decomposition of the window, or of new periods."""
    from mediamix.io.exports import write_csv
    from mediamix.service.data import load_dataset
    from mediamix.service.fit import load_model

    result = load_model(_model_folder(model))
    if data is None:
        frame = result.decomposition()
    else:
        loaded = load_dataset(data, limits=_limits(), home=_settings().home, for_fit=False)
        missing = [c for c in result.channel_names if c not in loaded.dataset.channels]
        if missing:
            raise InputError.single(f"new data lacks channels {missing}", file=str(data))
        frame = result.predict(loaded.dataset)
    write_csv(frame, out)
    out_console.print(f"wrote {out} ({len(frame)} periods)", markup=False)


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option(help="Folder for every demo output.")] = Path(
        "mediamix-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 7,
) -> None:
    """Fit both engines on synthetic data with known truth and judge them against it, offline."""
    from mediamix.service.demo import ENGINE_LABELS, run_demo

    steps = [
        "synthesizing",
        "validating",
        "validated",
        "fitting the ridge",
        "fitting the Bayesian",
        "optimizing",
        "writing",
    ]
    with progress_bar("demo") as update:
        seen = [0]

        def step(message: str) -> None:
            seen[0] += 1
            update(seen[0] / (len(steps) + 1), message)

        outcome = run_demo(
            out,
            seed=seed,
            step=step,
            sampler={"compile_cache": _settings().compile_cache_dir()},
        )
        update(1.0, "done")
    comparison = outcome.comparison
    table = Table(title=f"both engines against the known truth (synthetic data, seed {seed})")
    for column in (
        "engine",
        "contribution error",
        "ROI error",
        "true ROI in 90% interval",
        "plan uplift in truth",
    ):
        table.add_column(column, justify="right")
    for engine, m in comparison["engines"].items():
        table.add_row(
            ENGINE_LABELS.get(engine, engine),
            f"{m['contribution_error']:.0%}",
            f"{m['roi_error']:.0%}",
            f"{m['covered']} of {m['channels']}",
            f"{m['plan_uplift_in_truth']:+.2%}",
        )
    table.add_row("best possible", "", "", "", f"{comparison['best_uplift_in_truth']:+.2%}")
    out_console.print(table)
    per_channel = Table(title="per channel: true vs estimated ROI (90% interval)")
    per_channel.add_column("channel", justify="right")
    per_channel.add_column("true roi", justify="right")
    engines = list(comparison["engines"])
    for engine in engines:
        per_channel.add_column(ENGINE_LABELS.get(engine, engine), justify="right")
    per_channel.add_column("moves with season (R^2)", justify="right")
    records: list[dict[str, Any]] = outcome.recovery.to_dict("records")  # type: ignore[assignment]
    by_key = {(r["engine"], r["channel"]): r for r in records}
    for ch in comparison["channels"]:
        cells = []
        for engine in engines:
            r = by_key[(engine, ch["channel"])]
            mark = "" if r["covered"] else " (out)"
            cells.append(
                f"{r['estimated_roi']:.2f} [{r['roi_low']:.2f}, {r['roi_high']:.2f}]{mark}"
            )
        r2 = ch.get("baseline_r2")
        per_channel.add_row(
            str(ch["channel"]),
            f"{ch['true_roi']:.2f}",
            *cells,
            "-" if r2 is None else f"{r2:.0%}",
        )
    out_console.print(per_channel)
    out_console.print(outcome.conclusion, markup=False)
    for engine, plan in outcome.plans.items():
        for note in plan.get("notes") or []:
            out_console.print(f"note ({ENGINE_LABELS.get(engine, engine)}): {note}", markup=False)
    for name, path in outcome.files.items():
        out_console.print(f"  {name:<14}{path}", markup=False)
    out_console.print(f"open {outcome.files['report']} in a browser", markup=False)


def _register_commands() -> None:
    """Commands that live in their own modules (one per verb)."""
    from mediamix.cli.airflow import airflow_app
    from mediamix.cli.attribute import attribute_cmd
    from mediamix.cli.audit import audit_app
    from mediamix.cli.experiments import experiments_app
    from mediamix.cli.ingest import ingest_app
    from mediamix.cli.keys import keys_app
    from mediamix.cli.many import fit_many_cmd
    from mediamix.cli.optimize import optimize_cmd
    from mediamix.cli.pipeline import pipeline_app
    from mediamix.cli.privacy import privacy_app
    from mediamix.cli.reach import reach_fit_cmd
    from mediamix.cli.refresh import refresh_cmd
    from mediamix.cli.rlang import check_app, export_app, import_app, r_script_cmd
    from mediamix.cli.serve import serve_cmd
    from mediamix.cli.stream import stream_app
    from mediamix.cli.transform import transform_cmd
    from mediamix.cli.worker import worker_cmd

    app.command("optimize")(optimize_cmd)
    app.add_typer(experiments_app, name="experiments")
    app.command("attribute")(attribute_cmd)
    app.add_typer(ingest_app, name="ingest")
    app.command("transform")(transform_cmd)
    app.command("fit-many")(fit_many_cmd)
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(airflow_app, name="airflow")
    app.command("reach-fit")(reach_fit_cmd)
    app.add_typer(check_app, name="check")
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
    app.command("r-script")(r_script_cmd)
    from mediamix.cli.models import drift_app, models_app

    app.add_typer(models_app, name="models")
    app.add_typer(drift_app, name="drift")
    app.command("refresh")(refresh_cmd)
    app.command("serve")(serve_cmd)
    app.add_typer(keys_app, name="keys")
    app.command("worker")(worker_cmd)
    app.add_typer(audit_app, name="audit")
    app.add_typer(privacy_app, name="privacy")
    app.add_typer(stream_app, name="stream")
    from mediamix.cli.aws import deploy_app, storage_app, train_app

    app.add_typer(storage_app, name="storage")
    app.add_typer(deploy_app, name="deploy")
    app.add_typer(train_app, name="train")
    from mediamix.cli.report import report_app

    app.add_typer(report_app, name="report")


_register_commands()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the app and map errors to exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # standalone mode: typer/click handle usage errors (exit 2) and --help
        # themselves and exit; our own errors come back here as exceptions
        app(args=args, prog_name="mediamix", standalone_mode=True)
    except InputError as exc:
        _print_problems(exc.warnings, title="warnings:")
        err_console.print(f"error: {len(exc.problems)} problem(s) in the input:", markup=False)
        for p in exc.problems:
            err_console.print(f"  {as_flags(p)}", markup=False)
        err_console.print("nothing was written.", markup=False)
        sys.exit(2)
    except MediamixError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # an internal error: say so plainly, keep the trace in the log
        logging.getLogger("mediamix").debug("internal error", exc_info=True)
        err_console.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
        err_console.print("set MEDIAMIX_LOG_LEVEL=DEBUG for the traceback", markup=False)
        sys.exit(1)
    sys.exit(0)
