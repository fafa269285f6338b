"""Seeds as NumPy takes them: int, SeedSequence or Generator, each giving one documented 64-bit key."""

import numpy as np
import pytest

import inductive_bias as ib
from inductive_bias import _validation


def test_seed_sequence_key_is_documented_and_stable():
    sequence = np.random.SeedSequence(1234, spawn_key=(2,))
    low, high = sequence.generate_state(2, np.uint32)
    assert _validation.seed(sequence) == int(low) | (int(high) << 32)
    assert _validation.seed(np.random.SeedSequence(1234, spawn_key=(2,))) == _validation.seed(sequence)
    assert _validation.seed(np.random.SeedSequence(1234, spawn_key=(3,))) != _validation.seed(sequence)


def test_generator_is_advanced_like_numpy_seeding():
    first, second = np.random.default_rng(7), np.random.default_rng(7)
    assert (
        _validation.seed(first)
        == _validation.seed(second)
        == int(np.random.default_rng(7).integers(0, 2**64, dtype=np.uint64))
    )
    assert _validation.seed(first) != _validation.seed(np.random.default_rng(7))  # it moved on


def test_every_seeded_entry_point_takes_all_three():
    mean, factor = np.zeros((5, 2)), np.eye(5)
    targets = np.zeros((5, 2))
    key = _validation.seed(np.random.SeedSequence(9))
    by_int = ib.sample_gaussian_losses(mean, factor, targets, 16, seed=key)
    by_sequence = ib.sample_gaussian_losses(mean, factor, targets, 16, seed=np.random.SeedSequence(9))
    np.testing.assert_array_equal(by_int, by_sequence)
    generator_key = int(np.random.default_rng(3).integers(0, 2**64, dtype=np.uint64))
    np.testing.assert_array_equal(
        ib.random.normal(4, seed=np.random.default_rng(3)), ib.random.normal(4, seed=generator_key)
    )
    losses = ib.ScaledNCX2(5, 2, 0.1).rvs(300, seed=np.random.default_rng(0))
    fitted = ib.ScaledNCX2.fit(losses, n_boot=4, seed=np.random.SeedSequence(1))
    again = ib.ScaledNCX2.fit(losses, n_boot=4, seed=np.random.SeedSequence(1))
    np.testing.assert_array_equal(fitted.bootstrap, again.bootstrap)


@pytest.mark.parametrize("bad", [-1, 2**64, 1.5, "0", None, True])
def test_bad_seeds_name_the_argument(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        ib.random.normal(3, seed=bad)


def test_a_generator_is_advanced_once_per_call():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    for call in (
        lambda g: ib.task_difficulty(X, y, 0.01, n_samples=30, separation="sample", seed=g),
        lambda g: ib.compare(
            {"a": ib.RandomFeatureSpace(8), "b": ib.RandomFeatureSpace(8)},
            X[:40],
            y[:40],
            X[40:],
            y[40:],
            errors=[0.3],
            n_hypotheses=5,
            n_boot=0,
            seed=g,
        ),
    ):
        generator = np.random.default_rng(5)
        call(generator)
        expected = np.random.default_rng(5)
        expected.integers(0, 2**64, dtype=np.uint64)
        assert generator.integers(0, 2**64, dtype=np.uint64) == expected.integers(0, 2**64, dtype=np.uint64)


def test_compared_spaces_see_the_same_seed():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 2, 50)
    table = ib.compare(
        {"a": ib.RandomFeatureSpace(16), "b": ib.RandomFeatureSpace(16)},
        X[:35],
        y[:35],
        X[35:],
        y[35:],
        errors=[0.4],
        n_hypotheses=10,
        n_boot=0,
        seed=np.random.default_rng(3),
    )
    assert table.rows[0].bits == table.rows[1].bits  # the same space twice: the same hypotheses
