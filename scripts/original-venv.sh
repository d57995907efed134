#!/usr/bin/env bash
# Makes (or reuses) the Python virtual environment that runs the original tutorial's apps
# for the interop tests, and prints its python's path on stdout.
#
# The apps themselves stay unmodified in ../shared/reference/original-tutorial/ (beside the
# repository); this only installs what they import: flask, flask-cors, pycryptodome,
# requests. The environment lives in $ORIGINAL_VENV, else $CARGO_TARGET_DIR/original-venv,
# else target/original-venv. Safe to run from several tests at once (one lock).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
exec bash "$root/scripts/python-venv.sh" "${ORIGINAL_VENV:-$target/original-venv}" \
  'import flask, flask_cors, Crypto.Hash.SHA, requests' \
  flask flask-cors pycryptodome requests
