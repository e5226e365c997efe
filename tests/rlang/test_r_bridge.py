"""The R bridge: mediamix works without R; what needs R says what to install."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.r


def test_import_mediamix_without_r(no_r):
    out = no_r(
        "import sys, mediamix, mediamix.cli.app, mediamix.rlang.glmnet, mediamix.rlang.bridge;"
        "print('rpy2' in sys.modules, 'rpy2.robjects' in sys.modules)"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_r_session_without_r_names_what_to_install(no_r):
    out = no_r(
        "from mediamix.rlang.bridge import r_session, RMissingError\n"
        "try:\n"
        "    r_session(['glmnet'], purpose='the test')\n"
        "except RMissingError as exc:\n"
        "    print('missing:', exc)\n"
    )
    assert out.returncode == 0, out.stderr
    assert "missing: column 'R': the test needs R" in out.stdout
    assert "apt-get install r-base-core r-cran-glmnet" in out.stdout


def test_rscript_without_r(no_r):
    out = no_r(
        "from mediamix.rlang.bridge import rscript_path, RMissingError\n"
        "try:\n"
        "    rscript_path('the hook')\n"
        "except RMissingError as exc:\n"
        "    print('missing:', exc)\n"
    )
    assert "the hook needs R" in out.stdout, out.stderr


def test_r_session_with_r_loads_glmnet():
    from mediamix.rlang.bridge import r_session

    ro = r_session(["glmnet"], purpose="the test")
    assert bool(ro.r('"glmnet" %in% loadedNamespaces()')[0])
    assert shutil.which("Rscript") is not None


def test_missing_r_package_is_named():
    from mediamix.rlang.bridge import RMissingError, r_session

    with pytest.raises(RMissingError, match=r"the R package 'surely\.not\.installed'"):
        r_session(["surely.not.installed"], purpose="the test")


def test_cli_without_r_still_runs_other_commands(no_r):
    out = no_r("from mediamix.cli.app import main; main(['--help'])")
    assert out.returncode == 0, out.stderr
    assert "fit" in out.stdout


@pytest.mark.parametrize("name", ["bridge", "glmnet", "robyn"])
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(f"mediamix.rlang.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
