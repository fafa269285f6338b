"""Smoke test of an installed inductive-bias (a wheel, outside the source tree): the extensions load,
each family of native kernels gives a sane answer, and the command line runs on a small data file.

    python .ci/smoke_test.py            # IB_EXPECT_CUDA=1 also requires the CUDA extension

Run by cibuildwheel's test-command and by .ci/run on the repaired wheel; exits non-zero on failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import inductive_bias as ib


def check(condition, failure: str) -> None:
    """Like assert, but not stripped by python -O."""
    if not condition:
        raise SystemExit(f"smoke test FAILED: {failure}")


source = Path(__file__).resolve().parents[1] / "python"
check(source not in Path(ib.__file__).resolve().parents, f"imported from the source tree: {ib.__file__}")
info = ib.build_info()
print("inductive-bias", ib.__version__, "from", Path(ib.__file__).parent, info)
if os.environ.get("IB_EXPECT_CUDA") == "1":
    check(info["cuda"], "the wheel lacks the CUDA extension")
    print("CUDA usable here:", ib.cuda_available(), ib.cuda_status())

rng = np.random.default_rng(0)
z = ib.random.normal(8, seed=1, stream=2)
check(np.array_equal(z, ib.random.normal(8, seed=1, stream=2)) and np.isfinite(z).all(), "Philox normals")
mean, factor = rng.normal(size=(30, 3)), rng.normal(size=(30, 20)) / 5
losses = ib.sample_gaussian_losses(mean, factor, rng.integers(0, 3, 30), 500, seed=0)
fit = ib.ScaledNCX2.fit(losses)
check(fit.converged and fit.distribution.logcdf(float(losses.min())) < 0, "ncx2 fit")
gchi2 = ib.GeneralizedChi2([0.5, 0.5], 1).logcdf(1.0)  # 0.5 chi2_2: P(Q <= 1) = 1 - e^-1
check(abs(gchi2 - np.log1p(-np.exp(-1.0))) < 1e-12, f"generalized chi-squared: {gchi2}")
distances, _ = ib.nearest_neighbors(rng.normal(size=(200, 4)), 3)
check(distances.shape == (200, 3) and (np.diff(distances, axis=1) >= 0).all(), "nearest neighbours")

# The command installed beside this interpreter (not another installation's on PATH).
command = Path(sys.executable).parent / ("inductive-bias.exe" if os.name == "nt" else "inductive-bias")
check(command.is_file(), f"no inductive-bias command beside {sys.executable}")
with tempfile.TemporaryDirectory() as folder:
    data = Path(folder) / "small.npz"
    X = rng.normal(size=(160, 5))
    y = (X[:, 0] + 0.3 * rng.normal(size=160) > 0).astype(int) + (X[:, 1] > 1)
    np.savez(data, X_train=X[:100], y_train=y[:100], X_test=X[100:], y_test=y[100:])
    for args in (
        [
            "report",
            "--data",
            str(data),
            "--space",
            "rbf",
            "--error",
            "0.2",
            "--n-hypotheses",
            "2000",
            "--n-boot",
            "20",
            "--quiet",
            "--json",
            str(Path(folder) / "report.json"),
        ],
        [
            "difficulty",
            "--n",
            "60000",
            "--m",
            "14",
            "--R",
            "17.18",
            "--delta",
            "2.40",
            "--classes",
            "10",
            "--error",
            "0.001",
        ],
    ):
        result = subprocess.run([command, *args], capture_output=True, text=True, timeout=600)
        print(result.stdout[-1500:], result.stderr[-1500:], sep="\n")
        check(result.returncode == 0, f"inductive-bias {args[0]} exited with {result.returncode}")
    check((Path(folder) / "report.json").stat().st_size > 0, "empty report.json")
print("smoke test passed")
sys.exit(0)
