#!/usr/bin/env bash
# Installs what attnc needs (Debian 12 packages) when it is missing, then
# configures (once) and builds attnc with CMake + Ninja in ./build.
# Sourced by quickstart.sh and test.sh; BUILD_DIR overrides ./build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"

PACKAGES=(
  cmake ninja-build g++ python3 binutils
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools clang-19
  libclang-rt-19-dev  # the sanitizers' and libFuzzer's runtimes (clang-19 only recommends it)
  libantlr4-runtime-dev antlr4 libgtest-dev libopenblas-dev libomp-19-dev
  python3-venv python3-pip python3-setuptools python3-wheel python3-numpy
  python3-matplotlib python3-pytest
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  echo "== configuring $BUILD_DIR"
  cmake -G Ninja -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 >/dev/null
fi
echo "== building"
ninja -C "$BUILD_DIR" ${NINJA_FLAGS:-}
