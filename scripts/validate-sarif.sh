#!/usr/bin/env bash
# Validate SARIF files with the Microsoft SARIF Multitool and GitHub code scanning's rules.
#
#   scripts/validate-sarif.sh FILE.sarif [FILE.sarif ...]
#
# Runs `Sarif.Multitool validate` with rule kinds "Sarif;Ghas" and the config that turns on
# GH1001-GH1007 (tests/schemas/sarif-multitool-github.config.xml), prints what it reports and
# counts the errors itself: the multitool exits 0 even when it finds errors.
#
# Exit codes: 0 no errors; 1 errors were reported (or the multitool failed to run);
# 77 the multitool is not available (no node/npm, or it cannot be installed): a skip, so CI
# without npm does not fail.
#
# The npm package @microsoft/sarif-multitool is installed on first use into
# $SARIF_MULTITOOL_DIR (default: ~/.cache/coursecheck/sarif-multitool), outside the repository.
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
version="${SARIF_MULTITOOL_VERSION:-5.7.0}"
dir="${SARIF_MULTITOOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/coursecheck/sarif-multitool}"
config="${SARIF_MULTITOOL_CONFIG:-$here/tests/schemas/sarif-multitool-github.config.xml}"

if [ "$#" -eq 0 ]; then
    echo "usage: $0 FILE.sarif [FILE.sarif ...]" >&2
    exit 2
fi

skip() {
    echo "validate-sarif: skipped: $*"
    exit 77
}

command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"

locate() {
    (cd "$dir" 2>/dev/null && node -p "require('@microsoft/sarif-multitool')" 2>/dev/null)
}

tool="$(locate)"
if [ -z "$tool" ] || [ ! -f "$tool" ]; then
    echo "validate-sarif: installing @microsoft/sarif-multitool@$version into $dir"
    mkdir -p "$dir"
    if ! timeout 600 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
        "@microsoft/sarif-multitool@$version" >"$dir/install.log" 2>&1; then
        cat "$dir/install.log"
        skip "npm could not install @microsoft/sarif-multitool (offline?)"
    fi
    tool="$(locate)"
    [ -n "$tool" ] && [ -f "$tool" ] || skip "the multitool has no binary for this platform"
fi
# npm may refuse to run the package's postinstall script, which makes the binary executable.
[ -x "$tool" ] || chmod u+x "$tool" || skip "cannot make $tool executable"

errors=0
warnings=0
for file in "$@"; do
    if [ ! -f "$file" ]; then
        echo "validate-sarif: $file: no such file"
        errors=$((errors + 1))
        continue
    fi
    output="$("$tool" validate "$file" --rule-kind "Sarif;Ghas" --config "$config" \
        --level "Error;Warning" 2>&1)"
    status=$?
    echo "$output" | grep -E '\): (error|warning) [A-Z]+[0-9]+:' || true
    file_errors=$(echo "$output" | grep -cE '\): error [A-Z]+[0-9]+:' || true)
    file_warnings=$(echo "$output" | grep -cE '\): warning [A-Z]+[0-9]+:' || true)
    if [ "$status" -ne 0 ] || ! echo "$output" | grep -q "Analysis completed successfully"; then
        echo "$output"
        echo "validate-sarif: $file: the multitool did not complete (exit $status)"
        file_errors=$((file_errors + 1))
    fi
    echo "validate-sarif: $file: $file_errors errors, $file_warnings warnings"
    errors=$((errors + file_errors))
    warnings=$((warnings + file_warnings))
done
echo "validate-sarif: $# files: $errors errors, $warnings warnings"
[ "$errors" -eq 0 ]
