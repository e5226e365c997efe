"""The security scans catch what they are meant to catch, with the configuration CI runs.

Each test plants a file in a temporary folder and runs ``scripts/security-scan.sh`` on it: the
script ``make security`` (and so ``make test``) runs, with the repository's ruff configuration
and secrets baseline. Planted secrets are assembled at run time so that this file itself holds
none (the secrets scan reads it too).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "security-scan.sh"

# A fake AWS access key id and private key header, split so this file does not contain them.
FAKE_AWS_KEY_ID = "AKIA" + "QX7RTN2VWBZ5KM3P"
PRIVATE_KEY_HEADER = "-----BEGIN RSA " + "PRIVATE KEY-----"


def scan(kind: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), kind, *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def plant(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


VULNERABLE = {
    "S602": (
        "import subprocess\n"
        "import sys\n\n"
        "def run(name):\n"
        "    return subprocess.run('ls ' + name, shell=True, check=False)\n\n"
        "run(sys.argv[1])\n"
    ),
    "S506": ("import yaml\n\ndef read(text):\n    return yaml.load(text, Loader=yaml.Loader)\n"),
    "S301": ("import pickle\n\ndef read(blob):\n    return pickle.loads(blob)\n"),
    "S307": ("def compute(expression):\n    return eval(expression)\n"),
    "S608": (
        "def rows(con, user):\n"
        "    return con.execute(f\"select * from events where user_id = '{user}'\")\n"
    ),
}


@pytest.mark.parametrize("code", sorted(VULNERABLE))
def test_static_analysis_catches_a_planted_vulnerable_pattern(tmp_path: Path, code: str) -> None:
    path = plant(tmp_path, "planted.py", VULNERABLE[code])
    result = scan("static", path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert code in result.stdout
    assert str(path) in result.stdout


def test_static_analysis_passes_the_safe_equivalents(tmp_path: Path) -> None:
    path = plant(
        tmp_path,
        "safe.py",
        "import json\n"
        "import subprocess\n\n"
        "import yaml\n\n"
        "def run(name):\n"
        "    return subprocess.run(['/bin/ls', '--', name], check=False)  # noqa: S603 -- reviewed\n\n"
        "def read(text):\n"
        "    return yaml.safe_load(text), json.loads(text)\n\n"
        "def rows(con, user):\n"
        "    return con.execute('select * from events where user_id = ?', [user])\n",
    )
    result = scan("static", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_exception_only_silences_the_rule_it_names(tmp_path: Path) -> None:
    path = plant(
        tmp_path,
        "named.py",
        "import pickle\n\n"
        "def read(blob):\n"
        "    return pickle.loads(blob)  # noqa: S506 -- names the wrong rule\n",
    )
    result = scan("static", path)
    assert result.returncode == 1
    assert "S301" in result.stdout


def test_src_has_no_unnamed_finding() -> None:
    result = scan("static", REPO / "src")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f'aws_access_key_id = "{FAKE_AWS_KEY_ID}"\n', "AWS Access Key"),
        (f"{PRIVATE_KEY_HEADER}\nMIIEowIBAAKCAQEA\n", "Private Key"),
    ],
    ids=["aws-key", "private-key"],
)
def test_secrets_scan_catches_a_planted_fake_secret(tmp_path: Path, text: str, kind: str) -> None:
    path = plant(tmp_path, "settings.py", "region = 'eu-west-1'\n" + text)
    result = scan("secrets", path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert kind in result.stdout
    assert str(path) in result.stdout


def test_secrets_scan_passes_a_file_without_secrets(tmp_path: Path) -> None:
    path = plant(tmp_path, "settings.py", "region = 'eu-west-1'\nbucket = 'mediamix-data'\n")
    result = scan("secrets", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_audit_allow_list_gives_a_reason_for_every_advisory() -> None:
    lines = (REPO / "pip-audit-allowlist.txt").read_text(encoding="utf-8").splitlines()
    entries = [line.split("#", 1)[0].split(None, 1) for line in lines]
    missing = [e[0] for e in entries if len(e) == 1]
    assert not missing, f"advisories without a reason: {missing}"
