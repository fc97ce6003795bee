#!/usr/bin/env bash
# bench/gpu/prepare.sh: build the device kit's libraries on a machine WITH
# attnc (no GPU needed). The device machine has no LLVM/MLIR/attnc: it only
# loads what this script leaves in bench/gpu/out/ (carry: ["bench/gpu/out"]).
#
#   bash bench/gpu/prepare.sh            # $ATTNC or build/bin/attnc,
#                                        # else build/bin/attnc of this checkout
#
# out/libnumerics.so  CUDA (sm_80 + sm_90 cubins + PTX): bench/gpu/numerics.attn
# out/libbench.so     CUDA: bench/peers.attn (SDPA over [b, h, n, d], d = 64/128,
#                     full and causal)
# out/cpu/lib*.so     the same sources, --target=host (device_check.py
#                     --cpu-selftest checks the references against them)
# out/sched/lib*.so   the same, --gpu-schedule-on-host (the GPU mapping run as
#                     loops on the CPU: the self-test runs it too)
# out/signatures.json every model's signature, per library
# out/manifest.json   attnc, commit, date, targets, sizes
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${ATTNC_GPU_KIT_OUT:-$here/out}"
targets="${ATTNC_CUDA_TARGETS:-cuda:sm_80,sm_90}"

attnc="${ATTNC:-}"
if [[ -z "$attnc" ]]; then
  for c in "$root/build/bin/attnc"; do
    if [[ -x "$c" ]]; then attnc="$c"; break; fi
  done
fi
if [[ -z "$attnc" || ! -x "$attnc" ]]; then
  echo "prepare.sh: no attnc (set ATTNC=/path/to/attnc)" >&2
  exit 1
fi
py=/usr/bin/python3
[[ -x "$py" ]] || py=python3

# name -> source (relative to the repository root)
declare -A sources=(
  [numerics]="bench/gpu/numerics.attn"
  [bench]="bench/peers.attn"
)
names=(numerics bench)

rm -rf "$out"
mkdir -p "$out/cpu" "$out/sched" "$out/src"
failed=()
for name in "${names[@]}"; do
  src="$root/${sources[$name]}"
  cp "$src" "$out/src/$name.attn"
  echo "== $name: ${sources[$name]}"
  if "$attnc" "$src" --target="$targets" -o "$out/lib$name.so" \
      2> "$out/lib$name.cuda.log"; then
    echo "   cuda ($targets): $(stat -c %s "$out/lib$name.so") bytes"
  else
    echo "   cuda ($targets): FAILED (see out/lib$name.cuda.log):" >&2
    sed 's/^/     /' "$out/lib$name.cuda.log" >&2
    failed+=("$name:cuda")
  fi
  [[ -s "$out/lib$name.cuda.log" ]] && sed 's/^/   note: /' "$out/lib$name.cuda.log"
  if "$attnc" "$src" -o "$out/cpu/lib$name.so" 2> "$out/cpu/lib$name.log"; then
    echo "   host: ok"
  else
    echo "   host: FAILED" >&2; cat "$out/cpu/lib$name.log" >&2
    failed+=("$name:host")
  fi
  if "$attnc" "$src" --gpu-schedule-on-host \
      -o "$out/sched/lib$name.so" 2> "$out/sched/lib$name.log"; then
    echo "   gpu schedule on host: ok"
  else
    echo "   gpu schedule on host: FAILED" >&2; cat "$out/sched/lib$name.log" >&2
    failed+=("$name:sched")
  fi
done

# Keep only the logs that say something.
find "$out" -name '*.log' -empty -delete

# The device machine has libc and libcuda (opened with dlopen), nothing else:
# a CUDA library must need no other shared library. If one needs LLVM's
# libomp (an attnc that links it into CUDA libraries too), ship it beside
# them: device_check.py preloads out/lib/libomp.so.5 when it is there.
for lib in "$out"/lib*.so; do
  [[ -e "$lib" ]] || continue
  needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
  echo "== $(basename "$lib") needs: $needed"
  for n in $needed; do
    case "$n" in
      libc.so.6|libm.so.6|ld-linux-x86-64.so.2|libdl.so.2|libpthread.so.0) ;;
      libomp.so*)
        echo "   WARNING: $(basename "$lib") needs $n (not on the device):" \
             "shipping it in out/lib/ (device_check.py preloads it)"
        mkdir -p "$out/lib"
        p=$(ldd "$lib" | sed -n "s/.*$n => \([^ ]*\).*/\1/p")
        [[ -n "$p" ]] && cp -L "$p" "$out/lib/$n" ;;
      *) echo "   WARNING: $(basename "$lib") needs $n, which the device may lack" ;;
    esac
  done
done

# Signatures and the manifest (ctypes on the CPU libraries: loading a CUDA
# library needs no driver, but the host ones always load here).
"$py" - "$out" "$attnc" "$targets" "$root" <<'PY'
import ctypes, json, os, subprocess, sys, time
out, attnc, targets, root = sys.argv[1:5]
sigs = {}
for lib in sorted(os.listdir(out)):
    if not (lib.startswith("lib") and lib.endswith(".so")):
        continue
    path = os.path.join(out, lib)
    syms = subprocess.run(["nm", "-D", "--defined-only", path],
                          capture_output=True, text=True).stdout.split()
    models = sorted(s[len("attnc_"):-len("_signature")] for s in syms
                    if s.startswith("attnc_") and s.endswith("_signature"))
    cpu = os.path.join(out, "cpu", lib)
    dll = ctypes.CDLL(cpu if os.path.exists(cpu) else path)
    sigs[lib] = {}
    for m in models:
        f = getattr(dll, "attnc_%s_signature" % m)
        f.restype = ctypes.c_char_p
        sigs[lib][m] = json.loads(f().decode())
json.dump(sigs, open(os.path.join(out, "signatures.json"), "w"), indent=1)
def git(*a):
    r = subprocess.run(["git", "-C", root] + list(a), capture_output=True, text=True)
    return r.stdout.strip()
ver = subprocess.run([attnc, "--version"], capture_output=True, text=True).stdout.strip()
manifest = {
    "attnc": attnc, "attnc_version": ver, "targets": targets,
    "commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain")),
    "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "libraries": {lib: {"models": sorted(ms),
                        "bytes": os.path.getsize(os.path.join(out, lib))}
                  for lib, ms in sigs.items()},
}
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"), indent=1)
for lib, ms in sigs.items():
    print("== %s: %d models: %s" % (lib, len(ms), " ".join(sorted(ms))))
PY

echo "== total size of bench/gpu/out: $(du -sh "$out" | cut -f1)" \
     "($(du -sb "$out" | cut -f1) bytes; the carry limit is 64 MiB)"
if (( ${#failed[@]} )); then
  echo "prepare.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "prepare.sh: ok. Device command: bash bench/gpu/run_on_device.sh" \
     "(carry: [\"bench/gpu/out\"])"
