"""The package's shape: no import cycles, no private name used across modules, one kernel list, and
a docstring on every public name and method."""

import ast
import inspect
from pathlib import Path

import pytest

import inductive_bias as ib
from inductive_bias import _native

PACKAGE = Path(ib.__file__).resolve().parent
MODULES = {path.stem: ast.parse(path.read_text()) for path in PACKAGE.glob("*.py")}
SUBMODULES = set(MODULES) | {"_native", "_native_cuda"}


def imports(tree):
    """(module, names) for every relative import, at any depth (lazy imports count too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:  # from . import a, b
                for alias in node.names:
                    yield alias.name, []
            else:
                yield node.module, [alias.name for alias in node.names]


def test_no_import_cycles():
    graph = {
        name: {target for target, _ in imports(tree) if target in MODULES} - {name}
        for name, tree in MODULES.items()
        if name != "__init__"
    }
    for name in graph:
        graph[name].discard("__init__")
    state = {}

    def visit(node, path):
        state[node] = "active"
        for target in sorted(graph.get(node, ())):
            assert state.get(target) != "active", f"import cycle: {' -> '.join(path + [target])}"
            if target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_no_private_name_crosses_modules():
    crossings = []
    for name, tree in MODULES.items():
        for module, names in imports(tree):
            crossings += [
                f"{name}: from .{module} import {n}" for n in names if n.startswith("_") and n not in SUBMODULES
            ]
        for node in ast.walk(tree):  # module._private attribute access
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in SUBMODULES
                and node.attr not in SUBMODULES
            ):
                crossings.append(f"{name}: {node.value.id}.{node.attr}")
    assert crossings == []


def test_the_kernel_list_comes_from_the_native_enum():
    assert set(_native.Kernel.__members__) <= set(ib.KERNELS)
    assert set(ib.KERNELS) - set(_native.Kernel.__members__) == {"matern12"}  # an alias of laplacian
    for kernel in ib.KERNELS:
        ib.KernelSpace(kernel)
    with pytest.raises(ValueError, match="kernel: expected one of"):
        ib.KernelSpace("periodic")


def public_objects():
    for name in ib.__all__:
        value = getattr(ib, name)
        if inspect.ismodule(value):
            for inner in getattr(value, "__all__", []):
                yield f"{name}.{inner}", getattr(value, inner)
        else:
            yield name, value


def test_every_public_name_and_method_has_a_docstring():
    missing = []
    for name, value in public_objects():
        if not (inspect.isclass(value) or callable(value)):
            continue
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if attribute.startswith("_"):
                    continue
                function = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if callable(function) and not (function.__doc__ or "").strip():
                    missing.append(f"{name}.{attribute}")
    assert missing == []


def test_every_kernel_has_its_parameters_listed():
    from inductive_bias import spaces

    assert set(spaces._PARAMETERS) == set(ib.KERNELS)
