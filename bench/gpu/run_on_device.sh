#!/usr/bin/env bash
# The one command for the device tool (docs/gpu-benchmark.md):
#
#   bash bench/gpu/run_on_device.sh [--quick | --full | device_check.py args]
#
# with carry: ["bench/gpu/out"] (built beforehand by bench/gpu/prepare.sh on
# a machine with attnc). Prints the GPU, the libraries' dependencies, then
# runs device_check.py under a time limit; everything goes to $OUT (the
# device tool fetches it): device_env.txt, device_check.log,
# device_check.{json,md}. Without $OUT: bench/gpu/out/results/.
# Exit status: device_check.py's (0 passed, 1 a check failed, 2 no kit or no
# GPU, 124 the time limit).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export OUT="${OUT:-$PWD/bench/gpu/out/results}"
mkdir -p "$OUT"
py="${PYTHON:-python3}"
limit="${DEVICE_CHECK_TIMEOUT:-390}"
kit=bench/gpu/out

{
  echo "== $(date -u +%FT%TZ) on $(hostname)"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit,compute_mode \
      --format=csv || true
    nvidia-smi -L || true
  else
    echo "nvidia-smi: not found"
  fi
  "$py" - <<'PY' || true
import sys
print("python", sys.version.split()[0])
try:
    import numpy; print("numpy", numpy.__version__)
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda,
          "available", torch.cuda.is_available())
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        print("device", p.name, "sm_%d%d" % (p.major, p.minor),
              "SMs", p.multi_processor_count, "memory %.1f GiB" % (p.total_memory / 2**30))
except Exception as e:
    print("import failed:", e)
PY
  command -v nvcc >/dev/null && nvcc --version | tail -2
  echo "== the kit: $kit"
  if [[ -f "$kit/manifest.json" ]]; then cat "$kit/manifest.json"; echo; fi
  ls -la "$kit" || true
  for lib in "$kit"/libnumerics.so "$kit"/libbench.so; do
    [[ -f "$lib" ]] || { echo "MISSING $lib: run bench/gpu/prepare.sh and carry bench/gpu/out"; continue; }
    echo "== ldd $lib"
    ldd "$lib" 2>&1 || readelf -d "$lib" | grep NEEDED
  done
} 2>&1 | tee "$OUT/device_env.txt"

if [[ ! -f "$kit/libnumerics.so" || ! -f "$kit/libbench.so" ]]; then
  echo "run_on_device.sh: the kit is missing (carry: [\"bench/gpu/out\"])" | tee -a "$OUT/device_env.txt"
  exit 2
fi

echo "== device_check.py $* (time limit ${limit} s)"
timeout -k 10 "$limit" "$py" -u bench/gpu/device_check.py "$@" 2>&1 | tee "$OUT/device_check.log"
rc=${PIPESTATUS[0]}
echo "== device_check.py exited $rc; results in $OUT:"
ls -la "$OUT"
exit "$rc"
