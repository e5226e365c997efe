"""The ``attribute`` use case and its CLI command (registered on a test app)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mediamix.cli.attribute import attribute_cmd
from mediamix.errors import InputError
from mediamix.service.attribute import attribute

PATHS = (
    "path;total_conversions;total_conversion_value;total_null\n"
    "A > B > C;1;10;1\nA > C;1;20;0\nB;0;0;1\nA > A > B;0;0;1\nC;1;5;0\n"
)


@pytest.fixture
def paths_file(tmp_path: Path) -> Path:
    f = tmp_path / "paths.csv"
    f.write_text(PATHS)
    return f


def test_single_method_writes_contract_columns(paths_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "markov.csv"
    df = attribute(paths_file, "markov", out=out)
    written = pd.read_csv(out)
    assert list(written.columns[:3]) == ["channel", "conversions", "conversion_value"]
    assert written["conversions"].tolist() == pytest.approx([15 / 17, 12 / 17, 24 / 17])
    assert written["conversion_value"].sum() == pytest.approx(35.0)
    pd.testing.assert_frame_equal(written, df, check_dtype=False)
    assert [p.name for p in out.parent.iterdir()] == ["markov.csv"]  # no temp file left


def test_all_methods_side_by_side(paths_file: Path, tmp_path: Path) -> None:
    df = attribute(paths_file, "all", out=tmp_path / "all.csv")
    for m in (
        "first_touch",
        "last_touch",
        "linear",
        "linear_channel",
        "time_decay",
        "position_based",
        "markov",
        "shapley",
    ):
        assert f"{m}_conversions" in df.columns
        assert f"{m}_value" in df.columns
        assert df[f"{m}_conversions"].sum() == pytest.approx(3.0)


def test_bad_input_raises_and_writes_nothing(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("path;total_conversions\nA > B;1\nC;-2\n")
    out = tmp_path / "out.csv"
    with pytest.raises(InputError) as err:
        attribute(f, "linear", out=out)
    assert (err.value.problems[0].row, err.value.problems[0].column) == (2, "total_conversions")
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"method": "nope"}, "method"),
        ({"order": 0}, "order"),
        ({"half_life": -1.0}, "half_life"),
        ({"method": "mmm"}, "decomposition"),
    ],
)
def test_bad_options(paths_file: Path, kwargs: dict[str, object], column: str) -> None:
    with pytest.raises(InputError) as err:
        attribute(paths_file, **kwargs)  # type: ignore[arg-type]
    assert err.value.problems[0].column == column


def test_w_shaped_needs_milestone_column(paths_file: Path) -> None:
    with pytest.raises(InputError, match="milestone"):
        attribute(paths_file, "w_shaped")


def test_event_log_with_milestones_and_decomposition(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "user_id,timestamp,channel,conversion,conversion_value,milestone\n"
        "u,2024-01-01,a,0,,0\nu,2024-01-02,b,0,,1\nu,2024-01-03,c,1,9,0\n"
        "v,2024-01-01,b,0,,0\n"
    )
    dec = tmp_path / "decomposition.csv"
    dec.write_text("date,actual,fitted,baseline,a,b,c\n2024-01-01,10,10,4,1,2,3\n")
    df = attribute(log, "all", decomposition=dec, half_life=1.0)
    assert "w_shaped_conversions" in df.columns
    assert "mmm_conversions" in df.columns
    # time decay, h = 1 day: 2^-2, 2^-1, 1 -> 1/7, 2/7, 4/7
    assert df["time_decay_conversions"].tolist() == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    assert df["mmm_conversions"].tolist() == pytest.approx([1 / 6, 2 / 6, 3 / 6])


def test_cli_command_prints_a_table_and_writes(paths_file: Path, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("attribute")(attribute_cmd)
    app.command("other")(lambda: None)  # two commands keep "attribute" as a subcommand
    out = tmp_path / "cli.csv"
    result = CliRunner().invoke(
        app, ["attribute", str(paths_file), "--method", "all", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "markov" in result.output
    assert "shapley" in result.output
    assert "0.88" in result.output  # markov credit of A, 15/17
    assert out.exists()


def test_cli_input_error_propagates_for_the_main_app(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("path;total_conversions\n;1\n")
    app = typer.Typer()
    app.command("attribute")(attribute_cmd)
    app.command("other")(lambda: None)
    result = CliRunner().invoke(app, ["attribute", str(f), "--method", "linear"])
    assert isinstance(result.exception, InputError)  # the main app maps it to exit 2
    assert "row 1, column 'path'" in str(result.exception)
