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
venv="${ORIGINAL_VENV:-$target/original-venv}"
python="${PYTHON:-python3}"
mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"   # absolute: tests run elsewhere

imports() {
  "$venv/bin/python" -c 'import flask, flask_cors, Crypto.Hash.SHA, requests' 2>/dev/null
}
ready() {
  [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ] && imports
}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2
  else
    return 1
  fi
}

exec 9>"$venv.lock"
flock 9
if ! ready; then
  if ! command -v "$python" >/dev/null 2>&1; then
    [ "$python" = python3 ] && apt_install python3 python3-venv || true
    command -v "$python" >/dev/null 2>&1 || {
      echo "'$python' is missing: install Python 3 (on Debian: apt-get install python3 python3-venv)" >&2
      exit 1
    }
  fi
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >&2 2>/dev/null; then
    # Debian's python3 needs its venv package (ensurepip) for `python3 -m venv`.
    minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if apt_install "python$minor-venv" || apt_install python3-venv; then
      rm -rf "$venv"
      "$python" -m venv "$venv" >&2
    else
      echo "cannot make a Python virtual environment with '$python -m venv' (on Debian: apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  "$venv/bin/python" -m pip install --quiet flask flask-cors pycryptodome requests >&2
  imports || { echo "the original apps' packages did not install into $venv" >&2; exit 1; }
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
