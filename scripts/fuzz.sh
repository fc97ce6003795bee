#!/usr/bin/env bash
# Builds attnc's libFuzzer targets and runs each for a bounded time (what CI
# runs): the front end (.attn -> parse -> Sema -> MLIRGen -> verify), the
# attn dialect's parsers and verifiers (attn-opt input) and the runtime's
# argument checks (attnc_tensor arrays against a compiled model). Fails on
# any crash, sanitizer report, leak, hang (-timeout) or memory blow-up
# (-rss_limit_mb), and first replays the reproducers of test/Fuzz/regressions.
#
#   bash scripts/fuzz.sh [--time SECONDS] [--only frontend,dialect,runtime]
#                        [--replay-only] [--jobs N] [-- LIBFUZZER_FLAGS...]
#
#   --time S       seconds of fuzzing per target (default 75: under 5 minutes
#                  for the three, the build aside)
#   --only LIST    the targets to build and run (default all three)
#   --replay-only  build and replay the regressions, no fuzzing
#   --jobs N       ninja -jN for the fuzzing tree (default: ninja's)
#
# The normal build ($BUILD_DIR, default build/) comes first (scripts/setup.sh;
# its attnc compiles the runtime fuzzer's model); the fuzzing tree is
# $FUZZ_BUILD_DIR (default build-fuzz/, configured once, incremental). The
# corpus grows in $FUZZ_BUILD_DIR/fuzz-corpus/<target> across runs, seeded
# each run from examples/ and test/; crashing inputs are written to
# $FUZZ_BUILD_DIR/fuzz-artifacts/ (copy a minimized one into
# test/Fuzz/regressions/<target>/ with a lit test: docs/testing.md).
set -euo pipefail

TIME=75
ONLY="frontend,dialect,runtime"
REPLAY_ONLY=0
JOBS=()
EXTRA=()
while (($#)); do
  case "$1" in
  --time) TIME="$2"; shift 2 ;;
  --only) ONLY="$2"; shift 2 ;;
  --replay-only) REPLAY_ONLY=1; shift ;;
  --jobs) JOBS=(-j "$2"); shift 2 ;;
  --) shift; EXTRA=("$@"); break ;;
  *) echo "fuzz.sh: unknown argument '$1' (see the comment at the top)" >&2; exit 2 ;;
  esac
done

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
FUZZ_BUILD_DIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
FUZZ_DIR="$ROOT/test/Fuzz"

if [ ! -f "$FUZZ_BUILD_DIR/build.ninja" ]; then
  echo "== configuring $FUZZ_BUILD_DIR (libFuzzer + ASan + UBSan)"
  cmake -G Ninja -S "$ROOT" -B "$FUZZ_BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DATTNC_FUZZ=ON -DATTNC_FUZZ_MODEL_COMPILER="$BUILD_DIR/bin/attnc" >/dev/null
fi
targets=()
IFS=, read -r -a names <<<"$ONLY"
for name in "${names[@]}"; do
  case "$name" in
  frontend | dialect | runtime) targets+=("attnc-fuzz-$name") ;;
  *) echo "fuzz.sh: no fuzz target '$name' (frontend, dialect, runtime)" >&2; exit 2 ;;
  esac
done
echo "== building the fuzz targets"
ninja -C "$FUZZ_BUILD_DIR" "${JOBS[@]}" "${targets[@]}"

export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-19/bin/llvm-symbolizer
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

# Seeds, rebuilt each run: the .attn and .mlir files of examples/ and test/
# (the .mlir test files split at their `// -----` markers), and for the
# runtime a few valid calls and the model's signature.
SEEDS="$FUZZ_BUILD_DIR/fuzz-seeds"
rm -rf "$SEEDS"
mkdir -p "$SEEDS"/{frontend,dialect,runtime}
python3 - "$ROOT" "$SEEDS" <<'PY'
import hashlib, pathlib, struct, sys
root, seeds = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def put(target, data):
    name = hashlib.sha1(data).hexdigest()
    (seeds / target / name).write_bytes(data)
for folder in ("examples", "test"):
    for path in sorted((root / folder).rglob("*.attn")):
        put("frontend", path.read_bytes())
    for path in sorted((root / folder).rglob("*.mlir")):
        for chunk in path.read_text().split("// -----"):
            if chunk.strip():
                put("dialect", chunk.encode())
# RuntimeFuzzer.c's encoding: mode, b, n, m, a shape byte, then per argument
# a mutation count (0) and a placement byte (2: a buffer of its own), the
# lengths (argument 4, i32[b]) followed by their bytes.
for b, n, m in ((1, 1, 1), (2, 5, 3), (3, 17, 9), (4, 39, 33), (0, 4, 4)):
    call = bytes([0, b, n, m, 0])
    for arg in range(12):
        call += bytes([0, 2])
        if arg == 4:
            call += b"".join(struct.pack("<i", k + 1) for k in range(b))
    put("runtime", call)
signature = (root / "test/Fuzz/Inputs/fuzzabi.signature.json").read_bytes()
put("runtime", bytes([7]) + signature.strip())
PY

replay() { # target, files...
  local bin="$FUZZ_BUILD_DIR/bin/$1"; shift
  (($#)) || return 0
  echo "== replaying $# regression input(s) with $(basename "$bin")"
  nice -n 19 "$bin" -timeout=20 -rss_limit_mb=2560 "$@" \
    >"$FUZZ_BUILD_DIR/fuzz-replay.log" 2>&1 || {
    cat "$FUZZ_BUILD_DIR/fuzz-replay.log"
    echo "fuzz.sh: a regression input of $(basename "$bin") fails again" >&2
    return 1
  }
}

status=0
summary=()
for target in "${targets[@]}"; do
  short="${target#attnc-fuzz-}"
  shopt -s nullglob
  regressions=("$FUZZ_DIR/regressions/$short"/*)
  shopt -u nullglob
  if replay "$target" "${regressions[@]}"; then
    ((REPLAY_ONLY)) && summary+=("$target: ${#regressions[@]} regression input(s) pass")
  else
    status=1
    summary+=("$target: a regression input FAILS again")
  fi
  # The reproducers seed the corpus too.
  ((${#regressions[@]})) && cp "${regressions[@]}" "$SEEDS/$short/"
  ((REPLAY_ONLY)) && continue

  case "$short" in
  frontend) dict="$FUZZ_DIR/dictionaries/attn.dict"; maxlen=4096 ;;
  dialect) dict="$FUZZ_DIR/dictionaries/attn-dialect.dict"; maxlen=4096 ;;
  runtime) dict=""; maxlen=512 ;;
  esac
  corpus="$FUZZ_BUILD_DIR/fuzz-corpus/$short"
  artifacts="$FUZZ_BUILD_DIR/fuzz-artifacts/$short"
  log="$FUZZ_BUILD_DIR/fuzz-$short.log"
  mkdir -p "$corpus" "$artifacts"
  flags=(-max_total_time="$TIME" -timeout=20 -rss_limit_mb=2560
         -max_len="$maxlen" -print_final_stats=1
         -artifact_prefix="$artifacts/")
  [ -n "$dict" ] && flags+=(-dict="$dict")
  echo "== fuzzing $target for ${TIME}s (log: $log)"
  rc=0
  nice -n 19 "$FUZZ_BUILD_DIR/bin/$target" "${flags[@]}" "${EXTRA[@]}" \
    "$corpus" "$SEEDS/$short" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 |
    sed -E 's/.*(cov: [0-9]+) (ft: [0-9]+) (corp: [^ ]+).*/\1 \2 \3/')
  if ((rc)); then
    status=1
    grep -E 'ERROR|SUMMARY|runtime error|ABORT|Test unit written' "$log" | head -20 || true
    summary+=("$target: FAILED (exit $rc), ${execs:-?} executions, $last; see $log")
  else
    summary+=("$target: ok, ${execs:-?} executions, $last")
  fi
done

echo "== fuzzing summary"
for line in "${summary[@]}"; do echo "  $line"; done
exit $status
