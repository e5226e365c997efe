"""``mediamix stream``: land streamed events (AWS Kinesis) in the warehouse, exactly once."""

from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from mediamix.settings import load_settings

__all__ = ["stream_app"]

stream_app = typer.Typer(
    help="Consume event streams into the warehouse (docs/streaming.md).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
_out = Console(soft_wrap=True, highlight=False)
_err = Console(stderr=True, soft_wrap=True, highlight=False)

# at most one progress line per this many seconds (the first batch is always shown)
_PROGRESS_EVERY = 0.5


@stream_app.command("consume")
def consume_cmd(
    stream: Annotated[str, typer.Option(help="Kinesis stream name.")],
    endpoint_url: Annotated[
        str | None, typer.Option(help="Kinesis endpoint (default: AWS's for the region).")
    ] = None,
    region: Annotated[str, typer.Option(help="AWS region.")] = "us-east-1",
    batch_size: Annotated[
        int, typer.Option(help="Most records per micro-batch (one warehouse transaction).")
    ] = 500,
    max_batches: Annotated[int | None, typer.Option(help="Stop after this many batches.")] = None,
    until_idle: Annotated[
        float | None, typer.Option(help="Stop once no record arrived for this many seconds.")
    ] = None,
    poll_interval: Annotated[
        float, typer.Option(help="Seconds between polls of an idle stream.")
    ] = 1.0,
) -> None:
    """Read ad-delivery and conversion events from a Kinesis stream, validate each
    record, land valid events in stream_events and the rest in stream_dead_letters,
    with the shard checkpoints in the same transaction. A restart resumes after the
    last landed record. Without --max-batches or --until-idle it runs until
    interrupted (Ctrl-C or SIGTERM finish the current batch first)."""
    from mediamix.ingest.stream import KinesisSource
    from mediamix.service.stream import BatchReport, ConsumeOptions, consume

    if max_batches is not None and until_idle is not None:
        raise typer.BadParameter("give --max-batches or --until-idle, not both")
    settings = load_settings()
    options = ConsumeOptions(
        batch_size=batch_size,
        max_batches=max_batches,
        until_idle=until_idle,
        poll_interval=poll_interval,
    )
    stop: list[int] = []

    def ask_stop(signum: int, _frame: FrameType | None) -> None:
        stop.append(signum)

    previous = {sig: signal.signal(sig, ask_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    shown = [0.0]

    def show(report: BatchReport) -> None:
        now = time.monotonic()
        if report.batch_no > 1 and now - shown[0] < _PROGRESS_EVERY:
            return
        shown[0] = now
        lag = "unknown" if report.lag_ms is None else f"{report.lag_ms} ms"
        _err.print(
            f"batch {report.batch_no}: landed {report.total_events} event(s), "
            f"{report.total_dead_letters} dead letter(s) this run; lag {lag}",
            markup=False,
        )

    try:
        result = consume(
            settings.home,
            KinesisSource(stream, endpoint_url=endpoint_url, region=region),
            options,
            on_batch=show,
            should_stop=lambda: bool(stop),
            pseudonymize_key=settings.pseudonymize_secret(),
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _out.print(
        f"{result.stream}: landed {result.events} event(s) and {result.dead_letters} dead "
        f"letter(s) in {result.batches} batch(es), {result.seconds:.1f} s "
        f"({result.events / max(result.seconds, 1e-9):.0f} events/s); stopped: "
        f"{result.stopped_because}",
        markup=False,
    )
