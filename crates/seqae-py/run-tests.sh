#!/usr/bin/env bash
# Builds the Python package into a fresh virtualenv (target/py-ci) with its test
# dependencies from the package registry, and runs its tests. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The Python package (crates/seqae-py): maturin builds it into target/release with the same
# features as the workspace, so it reuses the burn compiled above; a "Compiling burn" in its
# build log means the features drifted apart (see crates/seqae-py/Cargo.toml) and fails CI.
python3 -m venv target/py-ci
target/py-ci/bin/python -m pip install -q --upgrade pip
if ! target/py-ci/bin/python -m pip install -v ./crates/seqae-py numpy scikit-learn pytest "dask[distributed]" pandas matplotlib mypy > target/py-ci/install.log 2>&1; then
    tail -n 40 target/py-ci/install.log
    exit 1
fi
if grep -E "Compiling burn" target/py-ci/install.log; then
    echo "error: pip install ./crates/seqae-py compiled burn again (features differ from the workspace build)" >&2
    exit 1
fi
echo "run-tests.sh: virtualenv and package installed in ${SECONDS} s"
target/py-ci/bin/python -m pytest crates/seqae-py/tests -q
echo "run-tests.sh: tests done at ${SECONDS} s"
# The stubs match the installed package (run outside the source tree, so that the installed
# package is the one imported).
(cd target/py-ci && bin/python -m mypy.stubtest seqae --mypy-config-file ../../crates/seqae-py/mypy.ini)
