"""The Examples of every public docstring run as doctests (part of the README's test command)."""

import doctest
import importlib
import pkgutil

import pytest

import inductive_bias

MODULES = sorted(m.name for m in pkgutil.iter_modules(inductive_bias.__path__, "inductive_bias."))


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
