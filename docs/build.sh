#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html, with every Sphinx warning an error.
#
#   bash docs/build.sh                 # from anywhere; extra arguments go to sphinx-build
#   IB_DOCS_VALIDATE=1 bash docs/build.sh   # also check docstrings against the numpydoc standard
#
# Needs the package installed (`pip install .`: the API reference documents the inductive_bias that
# Python imports) and the documentation requirements (`pip install -r docs/requirements.txt`).
# docs/api/ is written by docs/conf.py at every build (generated from inductive_bias.__all__).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
# -E: read every page again, so that warnings of unchanged pages are reported on every run
python -m sphinx -E -W --keep-going -b html docs docs/_build/html "$@"
echo "docs: open docs/_build/html/index.html"
