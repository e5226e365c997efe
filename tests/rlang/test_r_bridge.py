"""The R bridge: mediamix works without R; what needs R says what to install."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.r


def test_import_mediamix_without_r(without_r):
    assert without_r["rpy2_loaded"] is False


def test_r_session_without_r_names_what_to_install(without_r):
    message = without_r["r_session"]
    assert message.startswith("column 'R': the test needs R")
    assert "apt-get install r-base-core r-cran-glmnet" in message
    assert "pip install 'mediamix[r]'" in message


def test_rscript_without_r(without_r):
    assert "the hook needs R" in without_r["rscript"]


def test_cli_without_r_still_runs_other_commands(without_r):
    assert without_r["help"]["code"] == 0
    assert "fit" in without_r["help"]["out"]


def test_r_session_with_r_loads_glmnet():
    from mediamix.rlang.bridge import r_session

    ro = r_session(["glmnet"], purpose="the test")
    assert bool(ro.r('"glmnet" %in% loadedNamespaces()')[0])
    assert shutil.which("Rscript") is not None


def test_missing_r_package_is_named():
    from mediamix.rlang.bridge import RMissingError, r_session

    with pytest.raises(RMissingError, match=r"the R package 'surely\.not\.installed'"):
        r_session(["surely.not.installed"], purpose="the test")


@pytest.mark.parametrize("name", ["bridge", "glmnet", "robyn"])
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(f"mediamix.rlang.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
