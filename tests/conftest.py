import os

import pytest
from hypothesis import HealthCheck, settings

import inductive_bias as ib

# Deterministic and fast in CI; wider exploration on request (HYPOTHESIS_PROFILE=dev).
settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    if os.environ.get("IB_SLOW_TESTS") != "1":  # long validations stay out of the default run
        slow = pytest.mark.skip(reason="a long validation run: set IB_SLOW_TESTS=1")
        for item in items:
            if "slow" in item.keywords:
                item.add_marker(slow)
    if ib.cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device, the CUDA extension and CuPy")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
