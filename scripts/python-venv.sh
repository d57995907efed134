#!/usr/bin/env bash
# Makes (or reuses) a Python virtual environment holding some PyPI packages, and prints its
# python's path on stdout. CHECK is a Python statement that succeeds once the packages work
# (an import, a version check): an environment whose CHECK fails is made again. Safe to run
# from several processes at once (one lock per environment). As root, installs Debian's
# python3 and its venv package when they are missing.
# Usage: scripts/python-venv.sh VENV CHECK PACKAGE...
set -euo pipefail
venv="$1"
check="$2"
shift 2
python="${PYTHON:-python3}"
mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"   # absolute: callers run elsewhere

works() {
  "$venv/bin/python" -c "$check" 2>/dev/null
}
ready() {
  [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ] && works
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
  "$venv/bin/python" -m pip install --quiet "$@" >&2
  works || { echo "$* did not install into $venv" >&2; exit 1; }
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
