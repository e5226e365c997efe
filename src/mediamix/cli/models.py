"""``mediamix models``: the model registry (register, list, show, promote, compare)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mediamix.settings import load_settings
from mediamix.tracking.config import TrackingConfig

__all__ = ["drift_app", "models_app", "tracking_config"]

models_app = typer.Typer(
    help="Model registry on MLflow: register fits, champion/challenger aliases, compare.",
    no_args_is_help=True,
)
_out = Console(soft_wrap=True)


def tracking_config() -> TrackingConfig:
    """The registry configured by ``MEDIAMIX_HOME`` / ``MEDIAMIX_TRACKING_URI``."""
    return load_settings().tracking_config()


def _print(text: str) -> None:
    # the console is looked up at call time so tests can point it at captured streams
    from mediamix.cli.app import out_console

    out_console.print(text, markup=False)


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


@models_app.command("register")
def register_cmd(
    folder: Annotated[Path, typer.Argument(help="Fit output folder (or its model/ folder).")],
    name: Annotated[str, typer.Option("--name", help="Registered model name.")],
) -> None:
    """Register a fitted model; prints the new version number."""
    from mediamix.service.registry import register_model

    version = register_model(folder, name, tracking_config())
    _print(str(version["version"]))


@models_app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Registered models, their versions and aliases."""
    from mediamix.service.registry import list_models

    models = list_models(tracking_config())
    if as_json:
        _print(json.dumps(models, indent=2))
        return
    table = Table(title="registered models")
    for column in ("name", "version", "aliases", "engine", "holdout nrmse", "created"):
        table.add_column(column)
    for m in models:
        for v in m["versions"]:
            table.add_row(
                m["name"],
                str(v["version"]),
                ",".join(v["aliases"]) or "-",
                v["tags"].get("mediamix.engine", "-"),
                v["tags"].get("mediamix.holdout_nrmse", "-")[:6],
                v["created"],
            )
    from mediamix.cli.app import out_console

    out_console.print(table)


@models_app.command("show")
def show_cmd(
    ref: Annotated[str, typer.Argument(help="models:/NAME/VERSION or models:/NAME@ALIAS.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """A version's record: aliases, tags, promotion decisions, metrics and ROI."""
    from mediamix.service.registry import show_model

    shown = show_model(ref, tracking_config())
    if as_json:
        _print(json.dumps(shown, indent=2, default=str))
        return
    _print(
        f"{shown['name']} version {shown['version']} ({shown['status']}), "
        f"aliases: {', '.join(shown['aliases']) or '-'}, run {shown['run_id']}"
    )
    for key, value in sorted(shown["tags"].items()):
        _print(f"  {key}: {value}")
    summary = shown["summary"]
    _print(
        f"{summary.get('engine')} model of {summary.get('kpi')} "
        f"({summary.get('start')} to {summary.get('end')})"
    )
    _print("fit: " + ", ".join(f"{k} {_num(v)}" for k, v in (summary.get("metrics") or {}).items()))
    for name, c in (summary.get("channels") or {}).items():
        _print(
            f"  {name}: roi {_num(c.get('roi'))}, mroi {_num(c.get('mroi'))}, "
            f"interval {c.get('roi_interval') or '-'}"
        )
    for line in lineage_lines(shown.get("lineage")):
        _print(line)


def lineage_lines(lineage: dict[str, Any] | None) -> list[str]:
    """A model's lineage as text: how it was made (fit, refresh, R script, Robyn
    import), spec, data (file or warehouse), loads and dbt models; a refresh's previous
    model with its own lineage, indented."""
    if not lineage:
        return ["lineage: not recorded (fitted before lineage was kept)"]
    return ["lineage:", *_lineage_body(lineage, "  ")]


def _short(value: object) -> str:
    return str(value)[:12]


def _origin_lines(lineage: dict[str, Any], pad: str) -> list[str]:
    """What a model other than a plain fit was made from."""
    kind = lineage.get("kind", "fit")
    if kind == "refresh":
        prev = lineage.get("previous") or {}
        reg = prev.get("registry")
        version = f" = models:/{reg['name']}/{reg['version']}" if reg else ""
        return [
            f"{pad}refresh of {prev.get('model')}{version}, manifest sha256 "
            f"{_short(prev.get('artifact_sha256'))}, dataset fingerprint "
            f"{_short(prev.get('fingerprint'))}"
        ]
    if kind == "r-script":
        script = lineage.get("script") or {}
        r = lineage.get("r") or {}
        return [
            f"{pad}R script: {script.get('file')} sha256 {_short(script.get('sha256'))}, "
            f"run by {r.get('version')}"
        ]
    if kind == "robyn-import":
        robyn = lineage.get("robyn_json") or {}
        return [f"{pad}Robyn export: {robyn.get('file')} sha256 {_short(robyn.get('sha256'))}"]
    return []


def _lineage_body(lineage: dict[str, Any], pad: str) -> list[str]:
    lines = _origin_lines(lineage, pad)
    spec = lineage.get("spec") or {}
    if spec.get("file"):
        lines.append(f"{pad}spec: {spec.get('file')} sha256 {_short(spec.get('sha256'))}")
    else:
        lines.append(f"{pad}spec hash: {_short(spec.get('spec_hash'))}")
    lines.append(f"{pad}dataset fingerprint: {_short(lineage.get('fingerprint'))}")
    data = lineage.get("data") or {}
    if data.get("kind") == "file":
        lines.append(f"{pad}data: {data.get('path')} sha256 {_short(data.get('sha256'))}")
    source = data.get("upstream") if data.get("kind") == "file" else data
    if source:
        lines.append(f"{pad}from warehouse mart {source.get('mart')}")
        for load in source.get("loads") or []:
            lines.append(
                f"{pad}  load {load['source']}/{load['account']} {load['period_start']}.."
                f"{load['period_end']} sha256 {load['sha256'][:12]} ({load['raw_path']})"
            )
        dbt = source.get("dbt") or {}
        for model in dbt.get("models") or []:
            version = f" v{model['version']}" if model.get("version") is not None else ""
            lines.append(
                f"{pad}  dbt {model['unique_id']}{version} checksum {_short(model.get('checksum'))}"
            )
    if lineage.get("kind") == "refresh":
        previous = (lineage.get("previous") or {}).get("lineage")
        if previous:
            lines.append(f"{pad}previous model's lineage:")
            lines.extend(_lineage_body(previous, pad + "  "))
        else:
            lines.append(f"{pad}previous model's lineage: not recorded")
    return lines


@models_app.command("promote")
def promote_cmd(  # noqa: PLR0913 -- one argument per command-line option (typer)
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[int, typer.Argument(help="Version to promote.")],
    alias: Annotated[str, typer.Option("--alias", help="champion or challenger.")],
    holdout: Annotated[
        Path | None,
        typer.Option(
            help="Spec of newest weeks neither model was fitted on, to compare "
            "out-of-sample error (default: each model's own holdout error)."
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why ROIs may move beyond the tolerance (recorded).")
    ] = None,
    roi_tolerance: Annotated[
        float | None, typer.Option(help="Largest relative ROI move without a reason (0.5).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if the rule refuses (recorded).")
    ] = False,
    by: Annotated[str | None, typer.Option(help="Who decides (default: the OS user).")] = None,
) -> None:
    """Set an alias; to champion only if the promotion rule passes (or --force)."""
    from mediamix.service.registry import promote_model

    settings = load_settings()
    record = promote_model(
        name,
        version,
        alias,
        settings.tracking_config(),
        decided_by=by,
        force=force,
        reason=reason,
        holdout=holdout,
        roi_tolerance=roi_tolerance,
        home=settings.home,
    )
    verdict = "override of a refusal" if record["override"] else "rule passed"
    _print(
        f"models:/{name}/{version} is now {alias} ({verdict}; decided by {record['decided_by']})"
    )
    for line in record["reasons"]:
        _print(f"  refused by the rule: {line}")
    holdout_fig = record["figures"].get("holdout")
    if holdout_fig:
        _print(
            f"  holdout NRMSE: candidate {_num(holdout_fig['candidate_nrmse'], 4)}, "
            f"champion {_num(holdout_fig['champion_nrmse'], 4)} ({holdout_fig['source']})"
        )


@models_app.command("compare")
def compare_cmd(
    a: Annotated[str, typer.Argument(help="Model A: folder or models:/ reference.")],
    b: Annotated[str, typer.Argument(help="Model B: folder or models:/ reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    budget: Annotated[
        float | None, typer.Option(help="Also show the plan each model recommends for it.")
    ] = None,
) -> None:
    """Two models side by side: metrics, ROI and mROI with intervals, contributions, plans."""
    from mediamix.service.registry import compare_models

    compared = compare_models(a, b, tracking_config(), budget=budget)
    if as_json:
        _print(json.dumps(compared, indent=2, default=str))
        return
    for label in ("a", "b"):
        m = compared[label]
        _print(
            f"{label.upper()}: {m['model']} ({m['engine']}, {m['start']} to {m['end']}): "
            + ", ".join(f"{k} {_num(v)}" for k, v in m["metrics"].items())
        )
    table = Table(title="A vs B by channel")
    for column in (
        "channel",
        "roi A",
        "roi B",
        "mroi A",
        "mroi B",
        "interval A",
        "interval B",
        "contribution B-A (shared periods)",
    ):
        table.add_column(column, justify="right")
    for name, row in compared["channels"].items():
        ia, ib = row["a"].get("roi_interval"), row["b"].get("roi_interval")
        table.add_row(
            name,
            _num(row["a"].get("roi")),
            _num(row["b"].get("roi")),
            _num(row["a"].get("mroi")),
            _num(row["b"].get("mroi")),
            f"{ia[0]:.2f}-{ia[1]:.2f}" if ia else "-",
            f"{ib[0]:.2f}-{ib[1]:.2f}" if ib else "-",
            f"{row['contribution_difference']:,.0f}" if "contribution_difference" in row else "-",
        )
    from mediamix.cli.app import out_console

    out_console.print(table)
    for label, plan in (compared.get("plans") or {}).items():
        spend = ", ".join(f"{n} {c['spend']:,.0f}" for n, c in plan["channels"].items())
        _print(
            f"plan of {label.upper()} for {plan['budget']:,.0f}: {spend}; "
            f"response {plan['total_response']:,.0f}"
        )


drift_app = typer.Typer(
    help="Data and model drift of new weeks against a model.", no_args_is_help=True
)


@drift_app.command("check")
def drift_check_cmd(
    model: Annotated[str, typer.Option("--model", help="Model folder or models:/ reference.")],
    data: Annotated[Path, typer.Option("--data", help="Spec of the new weeks.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for drift.json and drift.html.")],
    thresholds: Annotated[
        Path | None,
        typer.Option(help="Thresholds YAML (psi, ks_pvalue, bins, error_ratio, columns)."),
    ] = None,
) -> None:
    """Write a drift report; exit 3 when retraining is due."""
    from mediamix.service.drift import drift_check

    settings = load_settings()
    outcome = drift_check(
        model,
        data,
        out,
        thresholds=thresholds,
        config=settings.tracking_config(),
        home=settings.home,
    )
    report = outcome.report
    _print(f"wrote {outcome.json_path} and {outcome.html_path}")
    if report.retrain:
        for reason in report.reasons:
            _print(f"drift: {reason}")
        _print("retraining is due")
        raise typer.Exit(3)
    _print("no drift beyond the thresholds")
