"""``mediamix_train``: Mondays at 02:00 UTC, the weekly model from the marts.

prepare (export the modelling input, fingerprint it) -> gate (under the ``refresh``
strategy, the drift check of the newest weeks against the champion decides whether
to train) -> fit (from scratch, or a refresh of the champion after drift; skipped
when a registered version was trained on the same input or the gate says no) ->
register and promote (the registry's promotion rule decides; a refresh becomes the
challenger) -> drift (the newest weeks against the champion). Re-running an interval
registers no second version.
"""

# TaskFlow passes a task's future output (XComArg) where the task declares the value it
# will receive; mypy sees the XComArg, Airflow resolves it before the call.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import dag, task

from mediamix.orchestration.runtime import (
    RunInfo,
    dag_arguments,
    load_config,
    run_step,
)
from mediamix.service import schedule


def _prepared(document: dict[str, Any]) -> schedule.TrainingInput:
    return schedule.TrainingInput(
        spec=Path(document["spec"]),
        data=Path(document["data"]),
        fingerprint=document["fingerprint"],
        periods=int(document["rows"]),
    )


@dag(**dag_arguments("train", __doc__))
def mediamix_train() -> None:
    """Prepare, decide, fit or refresh, register, promote or not, report drift."""

    @task
    def prepare() -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            train = load_config().train
            prepared = schedule.prepare_training(
                run.home, run.folder() / "input", train, run.end.date()
            )
            return prepared.to_dict()

        return run_step("prepare", body)

    @task
    def gate(prepared: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            train = load_config().train
            return schedule.training_gate(
                run.folder() / "gate", _prepared(prepared), train, run.tracking
            )

        return run_step("gate", body)

    @task
    def fit(prepared: dict[str, Any], decided: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            train = load_config().train
            return schedule.train_model(
                _prepared(prepared), run.folder() / "fit", train, run.tracking, decided
            )

        return run_step("fit", body)

    @task
    def register(trained: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            train = load_config().train
            return schedule.register_and_promote(
                trained, _prepared(prepared), train, run.tracking, run.home
            )

        return run_step("register", body)

    @task
    def drift(registered: dict[str, Any]) -> dict[str, Any]:
        def body(run: RunInfo) -> dict[str, Any]:
            train = load_config().train
            return schedule.drift_report(
                run.home, run.folder() / "drift", train, run.tracking, run.end.date()
            )

        return run_step("drift", body, last=True)

    prepared = prepare()
    drift(register(fit(prepared, gate(prepared)), prepared))


mediamix_train()
