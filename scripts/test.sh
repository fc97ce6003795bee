#!/usr/bin/env bash
# Installs what is missing, builds attnc, and runs every test: lit + FileCheck
# (front end, dialect, passes, pipelines, driver), the GoogleTest unit tests
# (run from lit) and the numerical/ABI integration tests (compile with attnc,
# call through the C ABI, compare with a double-precision reference).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

LIT=/usr/lib/llvm-19/build/utils/lit/lit.py
RESULTS="$BUILD_DIR/test-results.xml"
status=0
python3 "$LIT" -sv --xunit-xml-output "$RESULTS" "$BUILD_DIR/test" "$@" || status=$?

# A closing line any CI reader understands.
python3 - "$RESULTS" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit $status
