#!/usr/bin/env bash
# GPU check for a lent device machine (no network there): build the package against what the
# image has, run the GPU-marked tests, run the GPU benchmarks, print one short table.
#   bash benchmarks/gpu/device_check.sh          (writes logs and JSON under $OUT when set)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$(mktemp -d)}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== build"
if ! IB_CUDA=ON pip install --no-build-isolation --no-deps . >"$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"; exit 1
fi
python -c "import inductive_bias as ib; print(ib.build_info()); assert ib.cuda_available(), 'no usable GPU'"

echo "== GPU tests"
python -m pytest -m gpu -q -p no:cacheprovider tests 2>&1 | tee "$OUT/pytest_gpu.log" | tail -15
tests_rc=${PIPESTATUS[0]}

echo "== benchmarks"
python benchmarks/bench_sampling.py --device cuda --mode full --json "$OUT/sampling_cuda_full.json" \
  2>&1 | tee "$OUT/bench_sampling.log"
python benchmarks/bench_sampling.py --device cpu --mode quick --json "$OUT/sampling_cpu_quick.json" \
  2>&1 | tee -a "$OUT/bench_sampling.log" | tail -4
python - "$OUT" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
print(f"\n{'device':<28}{'kernel':<34}{'time s':>9}{'ceil/total':>12}{'vs plain':>10}")
for name in ("sampling_cuda_full.json", "sampling_cpu_quick.json"):
    data = json.loads((out / name).read_text())
    for row in data["results"]:
        kernel = f"sample_gaussian_losses {row['dtype']} n={row['n_hypotheses']}"
        print(f"{data['machine'][:27]:<28}{kernel:<34}{row['total_s']:>9.4f}"
              f"{row['ceiling_over_total']:>12.2f}{row['speedup_over_plain']:>9.2f}x")
PY
echo "GPU tests exit code: $tests_rc"
exit "$tests_rc"
