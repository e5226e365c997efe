"""R scripts as models: the example fits, bad scripts fail clearly and leave nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mediamix.cli.models import lineage_lines
from mediamix.io.artifacts import load_lineage, sha256_file
from mediamix.service.data import load_dataset
from mediamix.service.fit import load_model
from mediamix.tracking.fingerprint import data_fingerprint

pytestmark = pytest.mark.r

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "r-script" / "model.R"

# writes the curves of the example's model but decomposition and curves from R code
# that each test breaks in one place
TEMPLATE = """
args <- commandArgs(trailingOnly = TRUE)
meta <- jsonlite::fromJSON(file.path(args[1], "input.json"))
data <- read.csv(file.path(args[1], "input.csv"), check.names = FALSE)
curves <- list()
dec <- data.frame(date = data$date, baseline = mean(data[[meta$kpi]]))
for (ch in meta$channels) {{
  curves[[ch]] <- list(adstock = list(type = "geometric", alpha = 0),
                       saturation = list(type = "hill", half_saturation = 1, slope = 1),
                       beta = 0)
  dec[[ch]] <- 0
}}
{body}
write.csv(dec, file.path(args[2], "decomposition.csv"), row.names = FALSE)
jsonlite::write_json(list(channels = curves), file.path(args[2], "curves.json"),
                     auto_unbox = TRUE, digits = NA)
"""


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    from mediamix.data.synthetic import SynthConfig
    from mediamix.service.synth import write_synth

    folder = tmp_path_factory.mktemp("synth") / "data"
    path, _ = write_synth(folder, SynthConfig(seed=6, weeks=60, channels=2))
    return path


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temporary folder of our own, to see that the run leaves nothing in it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "model.R"
    path.write_text(TEMPLATE.format(body=body))
    return path


def test_example_script_is_an_ordinary_model(run_cli, spec, tmp_path, private_tmp):
    out = tmp_path / "model"
    res = run_cli(["r-script", EXAMPLE, spec, "--out", out])
    assert res.code == 0, res.err
    assert list(private_tmp.iterdir()) == []
    model = load_model(out)
    assert model.engine == "r-script"
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["channels"]) == set(model.channel_names)
    dec = pd.read_csv(out / "decomposition.csv")
    parts = dec.drop(columns=["date", "actual", "fitted"]).sum(axis=1)
    np.testing.assert_allclose(parts, dec["fitted"], rtol=1e-9)
    assert summary["metrics"]["r2"] > 0.5  # a real fit, not zeros
    assert all(fit.beta >= 0 for fit in model.channels.values())
    # its lineage: the script that ran, the R that ran it, the spec and the data
    lineage = load_lineage(out / "model")
    assert lineage is not None
    assert lineage["kind"] == "r-script"
    assert lineage["script"] == {"file": str(EXAMPLE.resolve()), "sha256": sha256_file(EXAMPLE)}
    version = subprocess.run(["Rscript", "--version"], capture_output=True, text=True, check=True)
    number = re.search(r"version (\d+\.\d+\.\d+)", version.stdout + version.stderr)
    assert number is not None
    assert lineage["r"]["version"].startswith(f"R version {number.group(1)}")
    assert lineage["spec"]["sha256"] == sha256_file(spec)
    data = yaml.safe_load(Path(spec).read_text())["data"]
    assert lineage["data"]["sha256"] == sha256_file(Path(spec).parent / data)
    # the data the script was given, before its baseline columns joined the model
    assert lineage["fingerprint"] == data_fingerprint(load_dataset(spec).dataset)
    assert any("R script: " in line for line in lineage_lines(lineage))
    # the optimizer plans on it like on any model
    total = sum(c["spend"] for c in summary["channels"].values())
    res = run_cli(["optimize", "--model", out, "--budget", str(total / 60 * 13), "--periods", "13"])
    assert res.code == 0, res.err
    # and reports on it
    res = run_cli(["report", out, "--out", tmp_path / "report.html"])
    assert res.code == 0, res.err
    assert "tv" in (tmp_path / "report.html").read_text()


def test_failing_script(run_cli, spec, tmp_path, private_tmp):
    script = _script(tmp_path, 'stop("the model did not converge")')
    out = tmp_path / "model"
    res = run_cli(["r-script", script, spec, "--out", out])
    assert res.code == 2
    assert "the R script failed (exit code 1)" in res.err
    assert "the model did not converge" in res.err
    assert not out.exists()
    assert list(private_tmp.iterdir()) == []


def test_hanging_script_is_stopped(run_cli, spec, tmp_path, private_tmp, monkeypatch):
    pidfile = tmp_path / "pid"
    monkeypatch.setenv("MEDIAMIX_TEST_PIDFILE", str(pidfile))
    script = _script(
        tmp_path, 'cat(Sys.getpid(), file = Sys.getenv("MEDIAMIX_TEST_PIDFILE"))\nSys.sleep(300)'
    )
    out = tmp_path / "model"
    res = run_cli(["r-script", script, spec, "--out", out, "--timeout", "3"])
    assert res.code == 2
    assert "did not finish within 3 s" in res.err
    assert not out.exists()
    assert list(private_tmp.iterdir()) == []
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            'writeLines("{", file.path(args[2], "curves.json")); quit(save = "no")',
            "curves.json: not valid JSON",
        ),
        ("curves[[meta$channels[1]]] <- NULL", "column 'channels.tv': missing"),
        ('curves[[1]]$saturation$type <- "sigmoidish"', "sigmoidish"),
        ("dec[[meta$channels[2]]][5] <- 123", "row 5, column 'search'"),
        ('dec[[meta$channels[1]]][7] <- "lots"', "row 7, column 'tv': not a number"),
        ("dec <- dec[-3, ]", "59 rows, the input has 60 periods"),
        ("dec$baseline <- NULL", "no baseline column"),
    ],
)
def test_malformed_output(run_cli, spec, tmp_path, private_tmp, body, words):
    assert load_channels(spec) == ["tv", "search"]
    out = tmp_path / "model"
    res = run_cli(["r-script", _script(tmp_path, body), spec, "--out", out])
    assert res.code == 2, res.err
    assert words in res.err, res.err
    assert not out.exists()
    assert list(private_tmp.iterdir()) == []


def load_channels(spec: Path) -> list[str]:
    from mediamix.io.spec import read_spec

    return list(read_spec(spec).channels)


def test_without_rscript(without_r):
    run = without_r["r_script"]
    assert run["code"] == 2, run["err"]
    assert "an R script model needs R" in run["err"]
    assert "script" not in without_r["written"]
