#!/usr/bin/env bash
# Run the BBRL conformance suite against YOUR implementation, in your repository's CI.
# Copy this file into your repository; the GitHub Actions workflow next to it runs the same steps.
#
#   IMPL=my_package.bbrl_api \
#   BBRL_SPEC='bbrl-spec @ git+https://github.com/OWNER/bbrl-spec@v0.1.0' \
#   LEDGER=conformance/deviations.toml  AREAS=WS,TR,RB \
#   bash run-conformance.sh
#
# IMPL       (required) the module exposing your Workspace, ReplayBuffer, ... (see conformance/README.md)
# BBRL_SPEC  pip requirement of the suite: a git URL as above or a path to a built wheel
#            (bbrl-spec is not on PyPI); leave it empty with SKIP_INSTALL=1 if already installed
# LEDGER     your strict ledger of known deviations (optional; a listed test that passes fails)
# AREAS      the areas you claim, comma-separated (optional; default: your CONFORMANCE_AREAS or all)
# OUT        where report.json, report.md and junit.xml go (default: conformance-report)
# TORCH      torch requirement (default torch==2.13.0) and TORCH_INDEX its index
#            (default: PyTorch's CPU wheels; empty: pip's configured index)
# PYTHON     the interpreter (default python3); SKIP_INSTALL=1 skips both pip installs
# SUITE_ARGS more options of `python -m bbrl_conformance` (optional, e.g. --profile nightly)
# Exit status: the suite's (0 conformant, 1 a test failed, 4 refused, 5 nothing ran); the report
# files are written in every case where the suite ran.
set -euo pipefail

: "${IMPL:?set IMPL to your implementation module}"
PYTHON=${PYTHON:-python3}
OUT=${OUT:-conformance-report}
TORCH=${TORCH:-torch==2.13.0}
TORCH_INDEX=${TORCH_INDEX-https://download.pytorch.org/whl/cpu}

if [ -z "${SKIP_INSTALL:-}" ]; then
    : "${BBRL_SPEC:?set BBRL_SPEC to the suite to install (git URL or wheel path)}"
    # torch first and alone, from the CPU index: an unpinned torch pulls a multi-GB CUDA build.
    if [ -n "$TORCH_INDEX" ]; then
        "$PYTHON" -m pip install "$TORCH" --index-url "$TORCH_INDEX"
    else
        "$PYTHON" -m pip install "$TORCH"
    fi
    # the suite, keeping that torch
    "$PYTHON" -m pip install "$BBRL_SPEC" "$TORCH"
fi

args=(--impl "$IMPL" --report "$OUT")
if [ -n "${AREAS:-}" ]; then args+=(--areas "$AREAS"); fi
if [ -n "${LEDGER:-}" ]; then args+=(--deviations "$LEDGER"); fi
if [ -n "${SUITE_ARGS:-}" ]; then read -r -a more <<< "$SUITE_ARGS"; args+=("${more[@]}"); fi
mkdir -p "$OUT"
"$PYTHON" -m bbrl_conformance "${args[@]}" -- --junitxml "$OUT/junit.xml"
