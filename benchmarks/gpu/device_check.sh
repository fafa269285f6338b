#!/usr/bin/env bash
# GPU check for a lent device machine (no network there; numpy, scipy, scikit-learn, cupy, pybind11,
# scikit-build-core, cmake, ninja, pytest, hypothesis and mpmath in its image). It fails fast and
# loudly: no nvcc, no working CuPy, a failed build, no usable device, a failed GPU test, no GPU test
# run, or any GPU test skipped for lack of a GPU (before any benchmark runs). Then it runs
# benchmarks/gpu/bench_gpu.py and prints its table last (a benchmark that raises fails the check; a
# missed target shows in the table). Every step has a timeout; the whole check took 87-115 s on an
# H100 (build 15-20 s, GPU tests 35-48 s, benchmarks 30-40 s).
#   bash benchmarks/gpu/device_check.sh                    # build, GPU tests, every benchmark
#   bash benchmarks/gpu/device_check.sh fit neighbors      # build, GPU tests, these benchmarks only
# Logs and JSON go to $OUT when it is set (a temporary folder otherwise).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d)}
export PIP_BREAK_SYSTEM_PACKAGES=1 PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}
fail() { echo "DEVICE CHECK FAILED: $*" >&2; exit 1; }

echo "== device"
timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader \
  | tee "$OUT/gpu.txt" || fail "nvidia-smi does not answer"
command -v nvcc >/dev/null || fail "nvcc is not on PATH"
timeout 30 nvcc --version | tail -1 || fail "nvcc does not run"
timeout 60 "$PYTHON" -c "import cupy; a = cupy.ones((256, 256)); assert float((a @ a).sum()) == 256**3; \
print('cupy', cupy.__version__, 'works')" || fail "CuPy cannot run a matrix product"
arch=$(head -1 "$OUT/gpu.txt" | awk -F', ' '{print $4}' | tr -d '.')
[[ "$arch" =~ ^[0-9]+$ ]] || fail "could not read the compute capability from nvidia-smi"

echo "== build (sm_$arch only)"
begin=$(date +%s)
if ! IB_CUDA=ON timeout 300 "$PYTHON" -m pip install --no-build-isolation --no-deps --no-index \
    --disable-pip-version-check -C "cmake.define.CMAKE_CUDA_ARCHITECTURES=${arch}-real" . >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  fail "the build failed (log: build.log)"
fi
echo "built in $(( $(date +%s) - begin )) s"
timeout 60 "$PYTHON" -c "import inductive_bias as ib; print(ib.build_info()); reason = ib.cuda_status(); \
assert not reason, 'CUDA is not usable: ' + reason" || fail "the installed package cannot use the GPU"

echo "== GPU tests"
tests_rc=0
timeout 300 "$PYTHON" -m pytest -m gpu -q -p no:cacheprovider -rs --junitxml="$OUT/pytest_gpu.xml" tests \
  2>&1 | tee "$OUT/pytest_gpu.log" | tail -25 || tests_rc=$?
"$PYTHON" - "$OUT/pytest_gpu.xml" <<'PY' || tests_rc=1
import sys
import xml.etree.ElementTree as ET

cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
failed = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
skipped = [c for c in cases if c.find("skipped") is not None]
no_gpu = [c for c in skipped if "needs a CUDA device" in (c.find("skipped").get("message") or "")]
passed = len(cases) - len(failed) - len(skipped)
print(f"GPU tests: {passed} passed, {len(failed)} failed, {len(skipped)} skipped ({len(no_gpu)} for lack of a GPU)")
for case in skipped:
    print(f"  skipped {case.get('name')}: {case.find('skipped').get('message')}")
sys.exit(1 if failed or no_gpu or passed == 0 else 0)
PY
[ "$tests_rc" -eq 0 ] || fail "GPU tests failed or were skipped (log: pytest_gpu.log)"

echo "== benchmarks"
timeout 420 "$PYTHON" benchmarks/gpu/bench_gpu.py --json "$OUT/gpu_cuda.json" ${1:+--only "$@"} \
  2>&1 | tee "$OUT/bench_gpu.log" || fail "a benchmark failed or ran out of time (log: bench_gpu.log)"
echo "DEVICE CHECK PASSED"
