#!/usr/bin/env bash
# Installs what is missing, builds attnc, and runs every test: lit + FileCheck
# (front end, dialect, passes, pipelines, driver), the GoogleTest unit tests
# (run from lit) and the numerical/ABI integration tests (compile with attnc,
# call through the C ABI, compare with a double-precision reference).
#
#   bash scripts/test.sh [--sanitize] [lit options]
#
# --sanitize (what CI runs, .ci/run): then builds a second tree,
# $SANITIZE_BUILD_DIR (./build-asan), with ASan + UBSan (attnc, attn-opt,
# the runtime linked into every compiled model, the unit tests and host
# programs; -DATTNC_SANITIZE=address,undefined) and runs the same tests
# against it; either run failing fails the script. See docs/testing.md.
set -euo pipefail

sanitize=0
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=1
  shift
fi

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

LIT=/usr/lib/llvm-19/build/utils/lit/lit.py

# Runs lit on the test folder of build tree $1 (further arguments go to
# lit) and prints a closing line any CI reader understands.
run_lit() {
  local build="$1"
  shift
  local results="$build/test-results.xml" rc=0
  python3 "$LIT" -sv --xunit-xml-output "$results" "$build/test" "$@" || rc=$?
  python3 - "$results" "$build" <<'PY'
import os, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{os.path.basename(sys.argv[2])}: {tests - failed - skipped} passed, {failed} failed, "
      f"{skipped} skipped")
PY
  return $rc
}

status=0
run_lit "$BUILD_DIR" "$@" || status=$?

if ((sanitize)); then
  SANITIZE_BUILD_DIR="${SANITIZE_BUILD_DIR:-$ROOT/build-asan}"
  if [ ! -f "$SANITIZE_BUILD_DIR/build.ninja" ]; then
    echo "== configuring $SANITIZE_BUILD_DIR (ASan + UBSan)"
    # -O1 with line tables: stack traces with lines, at a fraction of the
    # time -O3 takes to compile under the sanitizers.
    cmake -G Ninja -S "$ROOT" -B "$SANITIZE_BUILD_DIR" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" \
      -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only -DNDEBUG" \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
      -DATTNC_SANITIZE=address,undefined >/dev/null
  fi
  echo "== building $SANITIZE_BUILD_DIR (ASan + UBSan)"
  ninja -C "$SANITIZE_BUILD_DIR" ${NINJA_FLAGS:-}
  run_lit "$SANITIZE_BUILD_DIR" "$@" || status=$?
fi
exit $status
