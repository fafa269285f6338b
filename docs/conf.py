"""Sphinx configuration for the inductive-bias documentation.

Build with ``bash docs/build.sh`` (warnings are errors). The API reference documents the
``inductive_bias`` that Python imports, so install the package first (``pip install .``); to
document another copy, put it first on ``PYTHONPATH``.

The reference page, ``api/index.rst``, is written here at every build from
``inductive_bias.__all__``: each public name is placed in the group listed in ``API_GROUPS`` below,
and a name that no group lists goes to "Other public names", so nothing public is left out. Names are
documented under their public path (``inductive_bias.KernelSpace``), never under the private module
that defines them, so moving code between modules does not change the reference.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger("inductive_bias.docs")

DOCS = Path(__file__).resolve().parent

try:
    import inductive_bias
except ImportError as error:  # pragma: no cover - the build cannot go on without the package
    sys.exit(
        f"docs/conf.py: cannot import inductive_bias ({error}). Install the package first "
        "(`pip install .` in the repository root), or put an installed copy on PYTHONPATH."
    )

# -- Project -------------------------------------------------------------------------------------

project = "inductive-bias"
author = "The inductive-bias developers"
copyright = "The inductive-bias developers, BSD-3-Clause"
release = inductive_bias.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# Cross-references that cannot be resolved (types from NumPy, CuPy, Dask) stay plain text.
nitpicky = False
default_role = "code"
pygments_style = "sphinx"
pygments_dark_style = "monokai"

# -- Markdown (MyST): docs/methods.md and the benchmark summary are included as they are ---------

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# -- autodoc / autosummary / numpydoc ------------------------------------------------------------

autosummary_generate = True
autosummary_generate_overwrite = True
autosummary_imported_members = False
autosummary_ignore_module_all = False  # a submodule's reference lists exactly its __all__
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = True

numpydoc_show_class_members = False  # members are documented by autodoc (see _templates)
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()
if os.environ.get("IB_DOCS_VALIDATE"):
    # Optional style check of every docstring against the numpydoc standard (not part of the
    # -W build): IB_DOCS_VALIDATE=1 bash docs/build.sh
    numpydoc_validation_checks = {"all", "GL01", "GL02", "ES01", "EX01", "SA01", "SS05", "RT02", "GL08"}

# -- HTML ----------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"inductive-bias {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
# No "edit this page" links: the API pages are generated and exist in no repository.

# -- The API reference, from inductive_bias.__all__ ----------------------------------------------

# (title, one-line description, names). Order within a group is the order shown.
API_GROUPS: list[tuple[str, str, list[str]]] = [
    (
        "Inductive bias pipeline",
        "One entry point computes the inductive bias of a hypothesis space: exactly where the "
        "loss distribution is known, by the published sample-and-fit recipe otherwise.",
        [
            "inductive_bias",
            "InductiveBias",
            "exact_bias",
            "conditional_distribution",
            "ConditionalDistribution",
            "compare",
            "Comparison",
            "ComparisonRow",
            "sample_losses",
            "sample_gaussian_losses",
            "bias_from_losses",
            "BiasEstimate",
            "sankaran_bias",
        ],
    ),
    (
        "Hypothesis spaces",
        "Spaces of hypotheses that fit the training data, and the Gaussian posterior of kernel and "
        "trained-network spaces.",
        [
            "KernelSpace",
            "KERNELS",
            "TrainedNetworkSpace",
            "RandomFeatureSpace",
            "CallableSpace",
            "posterior",
            "Posterior",
            "kernel_matrix",
        ],
    ),
    (
        "Distributions",
        "Loss distributions evaluated in log space: the generalized chi-squared (exact for kernel "
        "spaces) and the scaled non-central chi-squared of the published fit.",
        ["GeneralizedChi2", "Gchi2Evaluation", "ScaledNCX2", "ScaledChi2", "Ncx2Fit"],
    ),
    (
        "Task difficulty",
        "The model-agnostic bound in bits and the estimators that read its inputs off the data.",
        [
            "task_difficulty",
            "TaskDifficulty",
            "difficulty",
            "intrinsic_dimension",
            "data_radius",
            "class_separation",
            "nearest_neighbors",
        ],
    ),
    (
        "Warnings about weak results",
        "Every warning the library raises about a result is a ReliabilityWarning.",
        [
            "ReliabilityWarning",
            "ExtrapolationWarning",
            "FitWarning",
            "NonInterpolatingWarning",
            "JitterWarning",
            "EstimatorWarning",
        ],
    ),
    (
        "Random streams",
        "Counter-based Philox streams: every number is addressed by (seed, stream, offset).",
        ["random"],
    ),
    (
        "Data sets",
        "The built-in digits task and loaders for user files.",
        ["datasets"],
    ),
    (
        "Backend and utilities",
        "What was compiled, whether a GPU can be used, and the CPU thread count.",
        ["build_info", "cuda_available", "cuda_status", "get_num_threads", "set_num_threads"],
    ),
]

# Public submodules that the guides use, documented when they can be imported even where
# inductive_bias.__all__ does not list them (older versions). Full dotted names.
API_EXTRA_MODULES: list[tuple[str, str, str]] = [
    ("Data sets", "The built-in digits task and loaders for user files.", "inductive_bias.datasets"),
]

API_DIR = DOCS / "api"
_GENERATED_MARK = ".generated-by-conf-py"


def _write_api_reference() -> None:
    """Write api/index.rst (autosummary tables, one per group); autosummary writes the stubs."""
    import importlib

    public = list(getattr(inductive_bias, "__all__", []))
    if not public:
        sys.exit("docs/conf.py: inductive_bias.__all__ is empty or missing")
    listed: set[str] = set()
    sections: list[tuple[str, str, list[str]]] = []
    for title, blurb, names in API_GROUPS:
        present = [n for n in names if n in public]
        gone = sorted(set(names) - set(public))
        if gone:
            logger.info("[api] not in inductive_bias.__all__ of this version, left out: %s", ", ".join(gone))
        listed.update(present)
        if present:
            sections.append((title, blurb, present))
    other = [n for n in public if n not in listed]
    if other:
        logger.info("[api] not in any group of docs/conf.py, listed under 'Other': %s", ", ".join(other))
        sections.append(("Other public names", "Public names not yet placed in a group.", other))
    for title, blurb, module in API_EXTRA_MODULES:
        if module.removeprefix("inductive_bias.") in public:
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            logger.info("[api] %s cannot be imported, left out", module)
            continue
        sections.append((title, blurb, [module.removeprefix("inductive_bias.")]))

    lines = [
        "API reference",
        "=============",
        "",
        "Every public name of the package, as ``import inductive_bias as ib`` exposes it, grouped by",
        "what it is for. This page is generated from ``inductive_bias.__all__`` when the documentation",
        f"is built, so it always matches the installed version ({inductive_bias.__version__}).",
        "",
        "Array arguments accept NumPy arrays (CPU), CuPy arrays (GPU) and other DLPack producers such",
        "as PyTorch or JAX tensors; results come back in the caller's array type. Probabilities are",
        "handled as logarithms throughout, and inductive bias is reported in bits unless",
        '``unit="nats"`` is asked for.',
        "",
        ".. currentmodule:: inductive_bias",
        "",
    ]
    for title, blurb, names in sections:
        lines += [
            title,
            "-" * len(title),
            "",
            blurb,
            "",
            ".. autosummary::",
            "   :toctree: generated",
            "   :nosignatures:",
            "",
        ]
        lines += [f"   {name}" for name in names]
        lines.append("")

    # Start from an empty directory so stubs of removed names do not linger (and break -W builds).
    if API_DIR.exists():
        if not (API_DIR / _GENERATED_MARK).exists():
            sys.exit(f"docs/conf.py: {API_DIR} exists but was not written by conf.py; move it away")
        shutil.rmtree(API_DIR)
    API_DIR.mkdir()
    (API_DIR / _GENERATED_MARK).write_text("Written by docs/conf.py at every build; do not edit.\n")
    (API_DIR / "index.rst").write_text("\n".join(lines), encoding="utf-8")


_write_api_reference()


# -- autosummary's one-line summaries ------------------------------------------------------------
# autosummary cuts a docstring's first sentence at the first period followed by a space, and its
# check for broken markup after the cut does not look at the cut text (sphinx/ext/autosummary,
# extract_summary). Docstrings here write ranges as ``start .. start + n - 1``, which it cuts inside
# the literal, leaving an unterminated ``...`` in the summary table (a docutils warning, an error
# under -W), or as 1e-12 .. 1e-1 inside parentheses, which it cuts mid-sentence. The wrapper below
# lengthens such a summary sentence by sentence until its inline literals and parentheses are
# closed, and otherwise keeps autosummary's answer.


def _patch_autosummary_summaries() -> None:
    import re

    from sphinx.ext import autosummary

    original = autosummary.extract_summary
    periods = re.compile(r"\.(?:\s+)")

    def closed(text: str) -> bool:
        return text.count("``") % 2 == 0 and text.count("(") <= text.count(")")

    def extract_summary(doc, settings):  # type: ignore[no-untyped-def]
        summary = original(doc, settings)
        if closed(summary):
            return summary
        stanza: list[str] = []
        for line in doc:
            if not line.strip():
                if stanza:
                    break
                continue
            stanza.append(line.strip())
        sentences = periods.split(" ".join(stanza))
        for i in range(1, len(sentences) + 1):
            candidate = ". ".join(sentences[:i]).rstrip(".") + "."
            if len(candidate) >= len(summary) and closed(candidate):
                return candidate
        return summary

    autosummary.extract_summary = extract_summary


_patch_autosummary_summaries()


# -- README sections included in the docs --------------------------------------------------------
# benchmarks.md includes a section of the README (with `:relative-docs: benchmarks/`, so its links
# are read relative to the README). A link from the README to a Markdown file of the repository
# that is not a page of these docs (benchmarks/results/SUMMARY.md) would be taken for a missing
# page; it becomes a download of that file instead, as links to other files (JSON) already are.

_README_MD_LINK = None


def _readme_links_to_downloads(app, relative_path, parent_docname, content):  # type: ignore[no-untyped-def]
    import re

    global _README_MD_LINK
    if Path(relative_path).name != "README.md":
        return
    if _README_MD_LINK is None:
        _README_MD_LINK = re.compile(r"\]\((?![a-z]+:|#|/)([^)\s#]+\.md)\)")
    content[0] = _README_MD_LINK.sub(r"](path:\1)", content[0])


# -- autodoc: no borrowed docstrings, no attributes twice ----------------------------------------
# A module constant such as KERNELS (a tuple) has no docstring of its own, and autodoc would show
# the docstring of its type ("Built-in immutable sequence..."): drop it. A class whose numpydoc
# docstring has an Attributes section already describes those attributes; the undocumented
# entries that :undoc-members: would add for the same names (dataclass fields) are skipped.
# autodoc documents a class's members right after the class itself, so the attributes of the class
# processed last are those of the members being filtered.

_class_attributes: set[str] = set()


def _process_docstring(app, what, name, obj, options, lines):  # type: ignore[no-untyped-def]
    global _class_attributes
    if (
        what in ("data", "attribute")
        and lines
        and getattr(obj, "__doc__", None) is not None
        and obj.__doc__ == getattr(type(obj), "__doc__", None)
    ):
        lines[:] = _attribute_docstring(name, obj)
    if what == "class":
        import warnings

        from numpydoc.docscrape import NumpyDocString

        try:
            with warnings.catch_warnings():  # numpydoc reports problems itself when it renders
                warnings.simplefilter("ignore")
                entries = NumpyDocString(getattr(obj, "__doc__", None) or "")["Attributes"]
        except Exception:
            entries = []
        _class_attributes = {part.strip() for entry in entries for part in entry.name.split(",")}


def _attribute_docstring(name, obj):  # type: ignore[no-untyped-def]
    """The docstring written under a public constant where a submodule defines it (a string after the
    assignment, or ``#:`` comments), found by identity: the name documented (``inductive_bias.KERNELS``)
    is only imported into the package, where Sphinx finds no docstring of its own."""
    import importlib
    import pkgutil

    from sphinx.pycode import ModuleAnalyzer
    from sphinx.util.docstrings import prepare_docstring

    short = name.rsplit(".", 1)[-1]
    for info in pkgutil.iter_modules(inductive_bias.__path__, "inductive_bias."):
        module = importlib.import_module(info.name)
        if vars(module).get(short) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(info.name).find_attr_docs()
        except Exception:
            continue
        if ("", short) in docs:
            return prepare_docstring("\n".join(docs["", short]))
    return []


def _skip_member(app, what, name, obj, skip, options):  # type: ignore[no-untyped-def]
    import inspect

    if (
        what == "class"
        and name in _class_attributes
        and not (inspect.isroutine(obj) or isinstance(obj, (classmethod, staticmethod)))
    ):
        return True
    return None


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("include-read", _readme_links_to_downloads)
    # before numpydoc (priority 500) turns the docstring into reST
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    app.connect("autodoc-skip-member", _skip_member)
    return {"parallel_read_safe": True}
