#!/usr/bin/env bash
# Set Rempart up on this machine, then run what was asked:
#   ./setup.sh demo      install, then run the demonstration (the README's first command)
#   ./setup.sh test      install, then lint, type-check and run the whole test suite
#   ./setup.sh install   install only
# Installs what is missing: Debian packages (a C compiler, Python headers, venv, Chromium,
# fonts, openssl), then a
# virtual environment in .venv with Rempart and its dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-demo}

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python=$candidate
      break
    fi
  done
fi

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "==> installing system packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

missing=()
[ -n "$python" ] || missing+=(python3 python3-venv python3-dev)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
if [ -n "$python" ]; then
  "$python" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  inc=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  [ -f "$inc/Python.h" ] || missing+=(python3-dev)
fi
# Evidence capture drives Debian's Chromium through Playwright (never a downloaded browser).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
  [ -n "$python" ] || python=python3
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi
# Reinstall only when what the install depends on has changed.
stamp=.venv/.rempart-installed
want=$(cat pyproject.toml setup.py src/rempart/*/*.c 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing Rempart and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -e '.[dev]'
  # The SD-XL watermark decoder (provenance): its package declares torch and opencv-python,
  # which Rempart never imports (it loads the decoder's own file); installed without them.
  .venv/bin/python -m pip install -q --no-deps 'invisible-watermark==0.2.0'
  echo "$want" >"$stamp"
fi

case "$what" in
  install) echo "==> ready: .venv/bin/rempart --help" ;;
  demo) exec .venv/bin/rempart demo ;;
  test)
    echo "==> ruff"
    .venv/bin/ruff check --no-cache src tests bench
    .venv/bin/ruff format --no-cache --check src tests bench
    echo "==> mypy"
    .venv/bin/mypy
    echo "==> import-linter"
    .venv/bin/lint-imports
    echo "==> pytest"
    exec .venv/bin/python -m pytest "${@:2}"
    ;;
  *)
    echo "usage: ./setup.sh [demo|test|install]" >&2
    exit 2
    ;;
esac
