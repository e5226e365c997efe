#!/usr/bin/env bash
# The security scans `make security` (and so `make test`) runs; docs/security.md explains them.
#   scripts/security-scan.sh                 static analysis of src/ and a secrets scan of every
#                                            file git tracks
#   scripts/security-scan.sh static PATH...  static analysis of the given files only
#   scripts/security-scan.sh secrets PATH... secrets scan of the given files only
#   scripts/security-scan.sh audit           pip-audit of requirements.lock (`make audit`; needs
#                                            the advisory service, so it is not part of `make test`)
# The tests in tests/security/ call the same script on planted files, so the configuration
# they check is the one CI runs. Exit code 0: no finding; non-zero: a finding (or an error).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${MEDIAMIX_VENV_BIN:-$root/.venv/bin}"
cd "$root"

# ruff's S rules (flake8-bandit) with the project's configuration; exceptions are named in
# place as `# noqa: SXXX -- reason`.
static() {
    "$bin/ruff" check --config "$root/pyproject.toml" --no-cache --select S "$@"
}

# detect-secrets against the committed baseline: it fails on any secret not in the baseline.
# A false positive gets `# pragma: allowlist secret` on its line, with the reason.
secrets() {
    "$bin/detect-secrets-hook" --baseline "$root/.secrets.baseline" "$@"
}

# pip-audit of the locked install, skipping the advisories listed in pip-audit-allowlist.txt
# (one `ID reason` a line). The lock pins hashes, so no resolver runs (--disable-pip).
audit() {
    local ignores=()
    while read -r id reason; do
        if [ -z "$reason" ]; then
            echo "pip-audit-allowlist.txt: advisory $id has no reason" >&2
            exit 2
        fi
        ignores+=(--ignore-vuln "$id")
    done < <(sed -e 's/#.*//' "$root/pip-audit-allowlist.txt" | grep -v '^[[:space:]]*$' || true)
    "$bin/pip-audit" --requirement "$root/requirements.lock" --require-hashes --disable-pip \
        --progress-spinner off --strict "${ignores[@]}"
}

case "${1:-all}" in
    static) shift; static "$@" ;;
    secrets) shift; secrets "$@" ;;
    audit) audit ;;
    all)
        echo "security: static analysis of src/ (ruff S rules)"
        static src
        echo "security: secrets scan of the tracked files (detect-secrets)"
        git ls-files -z | xargs -0 "$bin/detect-secrets-hook" --baseline "$root/.secrets.baseline"
        echo "security: no finding"
        ;;
    *) echo "usage: $0 [static PATH... | secrets PATH... | audit]" >&2; exit 2 ;;
esac
