#!/usr/bin/env python3
"""attnc against its peers, side by side, in one run.

    python3 bench/peers.py                 # the shapes of issue 7, 1 and 2 threads
    python3 bench/peers.py --quick         # small shapes: a smoke check (~1 min)
    python3 bench/peers.py --threads 2 --repeat 8 --attnc build/bin/attnc

What it times (fp32 forward, batch 1, Q/K/V given, no projections, scaled
dot product, optionally causal):

  attnc                   bench/peers.attn compiled by the in-tree attnc
                          (--attnc, default build/bin/attnc), called through
                          its C ABI with ctypes on [b, h, n, d] arrays;
  PyTorch SDPA            torch.nn.functional.scaled_dot_product_attention
                          on [b, h, n, d] tensors (is_causal for causal);
  ORT MatMul+Softmax      ONNX Runtime on a plain graph built with
                          onnx.helper: Transpose, MatMul, Mul (the scale),
                          Add (a -inf upper triangle when causal), Softmax,
                          MatMul;
  ORT MultiHeadAttention  ONNX Runtime's com.microsoft.MultiHeadAttention
                          contrib operator (num_heads; query/key/value as
                          [b, n, h*d]; causal through its `unidirectional`
                          attribute, or n/a where this ORT refuses it or
                          ignores it).

Each system gets one warm-up call, then `--repeat` timed calls split over
`--rounds` rounds that visit the systems in turn (so a burst of load on a
shared machine does not fall on one system only); the best time counts.
GFLOP/s count 4 h n^2 d (the two products), and for causal the real,
unmasked half: 2 h n (n + 1) d. "% peak" is of the fp32 FMA peak measured in
the same process run (bench/fma_peak.c, 12 independent vector accumulators per
thread, the best of its runs before and after the benchmarks). The ratio rows
are attnc's time over a peer's: below 1, attnc is faster.

Every system's output is first checked against a float64 NumPy reference on
small shapes (odd sizes, causal and not; |err| <= 1e-3 or the run fails), and
at every benchmarked shape attnc's output is compared with PyTorch's (the
largest |difference| is printed; above 1e-3 the run fails).

One worker process runs per thread count, with the thread count set for all
of them before anything is loaded: OMP_NUM_THREADS (attnc's libomp and
PyTorch's OpenMP), MKL_NUM_THREADS, OPENBLAS_NUM_THREADS, then
torch.set_num_threads and ORT's intra_op_num_threads (inter-op: 1). On an
AVX-512 CPU OPENBLAS_CORETYPE=SkylakeX is set unless given (OpenBLAS 0.3.21
misdetects these CPUs; see shared/TOOLCHAIN.md). Between systems the worker
sleeps `--settle` seconds so that the thread pools that spin after their work
(libomp, libgomp, ORT) are asleep when the next system starts.

PyTorch, ONNX Runtime, onnx and numpy are installed from PyPI into a virtual
environment of this script's own (--venv, default build/peers-venv), never
into the test path: no test depends on them. The PyPI torch wheel pulls the
CUDA packages (several GB); it runs on the CPU. --no-install uses the venv
as it is; --pip-args passes options to pip (an index, a proxy).
"""

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PACKAGES = ["torch", "onnxruntime", "onnx", "numpy"]
TOL = 1e-3

# (label, heads, n, d, causal)
SHAPES = [
    ("H1 N4096 d128", 1, 4096, 128, False),
    ("H8 N1024 d64", 8, 1024, 64, False),
    ("H1 N8192 d64", 1, 8192, 64, False),
    ("causal H1 N4096 d128", 1, 4096, 128, True),
]
QUICK_SHAPES = [
    ("H1 N512 d128", 1, 512, 128, False),
    ("H8 N256 d64", 8, 256, 64, False),
    ("H1 N1024 d64", 1, 1024, 64, False),
    ("causal H1 N512 d128", 1, 512, 128, True),
]
# Checked against float64: odd sizes cut the query and key tiles.
CHECK_SHAPES = [
    (2, 67, 64, False), (2, 67, 64, True),
    (1, 130, 128, False), (3, 130, 128, True),
]
SYSTEMS = [
    ("attnc", "attnc"),
    ("torch", "PyTorch SDPA"),
    ("ort_matmul", "ORT MatMul+Softmax"),
    ("ort_mha", "ORT MultiHeadAttention"),
]
PEERS = [s for s, _ in SYSTEMS if s != "attnc"]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def die(msg):
    log("peers.py: " + msg)
    sys.exit(1)


def flops(h, n, d, causal):
    return 2.0 * h * n * (n + 1) * d if causal else 4.0 * h * n * n * d


def has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


# ---------------------------------------------------------------------------
# The virtual environment
# ---------------------------------------------------------------------------


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def ensure_venv(args):
    py = venv_python(args.venv)
    if not os.path.exists(py):
        if args.no_install:
            die("no virtual environment at %s (and --no-install)" % args.venv)
        log("== creating the virtual environment %s" % args.venv)
        r = subprocess.run([sys.executable, "-m", "venv", args.venv])
        if r.returncode != 0 or not os.path.exists(py):
            die("`%s -m venv %s` failed; on Debian: apt-get install python3-venv"
                % (sys.executable, args.venv))
    probe = [py, "-c", "import torch, onnxruntime, onnx, numpy"]
    if subprocess.run(probe, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        return py
    if args.no_install:
        die("the venv %s lacks some of %s (and --no-install)" % (
            args.venv, " ".join(PACKAGES)))
    log("== installing %s from PyPI into %s (torch pulls several GB)" % (
        " ".join(PACKAGES), args.venv))
    cmd = [py, "-m", "pip", "install"] + args.pip_args.split() + PACKAGES
    if subprocess.run(cmd).returncode != 0:
        die("pip install failed: %s" % " ".join(cmd))
    if subprocess.run(probe).returncode != 0:
        die("the packages do not import after installing them")
    return py


# ---------------------------------------------------------------------------
# Building: the attnc models and the FMA probe
# ---------------------------------------------------------------------------


def build(args):
    os.makedirs(args.workdir, exist_ok=True)
    attnc = args.attnc
    if not os.path.exists(attnc):
        die("attnc not found at %s: build it (scripts/setup.sh) or pass --attnc"
            % attnc)
    so = os.path.join(args.workdir, "libpeers.so")
    cmd = [attnc, os.path.join(HERE, "peers.attn"), "-o", so] + \
        args.attnc_flags.split()
    log("== " + " ".join(cmd))
    t0 = time.time()
    if subprocess.run(cmd).returncode != 0:
        die("attnc failed on bench/peers.attn")
    log("   compiled in %.2f s" % (time.time() - t0))

    probe = os.path.join(args.workdir, "fma_peak")
    cc = next((c for c in (os.environ.get("CC"), "clang-19", "clang", "gcc", "cc")
               if c and shutil.which(c)), None)
    if cc is None:
        log("   no C compiler: % of peak is not printed")
        return so, None
    cmd = [cc, "-O3", "-march=native", "-ffp-contract=fast", "-pthread",
           os.path.join(HERE, "fma_peak.c"),
           "-o", probe]
    if subprocess.run(cmd).returncode != 0:
        log("   the FMA probe did not build: % of peak is not printed")
        return so, None
    return so, probe


# ---------------------------------------------------------------------------
# The worker: one process per thread count
# ---------------------------------------------------------------------------


def thread_env(threads):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    if has_avx512() and "OPENBLAS_CORETYPE" not in env:
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def run_probe(probe, threads):
    if probe is None:
        return None
    out = subprocess.run([probe, str(threads), "10"], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    for tok in out.split():
        if tok.startswith("gflops="):
            return float(tok.split("=")[1])
    return None


class Attnc:
    """A model of libpeers.so, called through the C ABI on numpy arrays."""

    def __init__(self, so):
        import ctypes
        self.ctypes = ctypes
        self.lib = ctypes.CDLL(so)

        class Tensor(ctypes.Structure):  # runtime/include/attnc/attnc.h
            _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int32),
                        ("rank", ctypes.c_int32),
                        ("shape", ctypes.c_int64 * 8),
                        ("strides", ctypes.c_int64 * 8)]
        self.Tensor = Tensor

    def bind(self, model, named):
        """A no-argument function calling attnc_<model> on the arrays of
        `named` (name -> C-contiguous float32 array, outputs included)."""
        ctypes = self.ctypes
        fn = getattr(self.lib, "attnc_" + model)
        fn.restype = ctypes.c_int32
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        sig_fn = getattr(self.lib, "attnc_%s_signature" % model)
        sig_fn.restype = ctypes.c_char_p
        err_fn = getattr(self.lib, "attnc_%s_last_error" % model)
        err_fn.restype = ctypes.c_char_p
        sig = json.loads(sig_fn().decode())
        arr = (self.Tensor * len(sig["args"]))()
        for i, a in enumerate(sig["args"]):
            x = named[a["name"]]
            assert x.dtype.name == "float32" and x.flags["C_CONTIGUOUS"]
            t = arr[i]
            t.data = x.ctypes.data
            t.dtype = 0  # ATTNC_F32
            t.rank = x.ndim
            for r in range(x.ndim):
                t.shape[r] = x.shape[r]
                t.strides[r] = x.strides[r] // 4
        ptr, n = ctypes.cast(arr, ctypes.c_void_p), len(sig["args"])

        def call():
            if fn(ptr, n) != 0:
                raise RuntimeError("attnc_%s: %s" % (model, err_fn().decode()))
        call.keep = (arr, named)
        return call


def ort_graphs(b, h, n, d, causal):
    """The serialized ONNX models: (plain MatMul+Softmax, MultiHeadAttention)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    F = TensorProto.FLOAT
    shape = [b, h, n, d]
    scale = numpy_helper.from_array(np.array(1.0 / math.sqrt(d), np.float32),
                                    "scale")
    nodes = [helper.make_node("Transpose", ["K"], ["Kt"], perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["Q", "Kt"], ["S"]),
             helper.make_node("Mul", ["S", "scale"], ["Ss"])]
    inits = [scale]
    last = "Ss"
    if causal:
        mask = np.triu(np.full((n, n), -np.inf, np.float32), k=1)
        inits.append(numpy_helper.from_array(mask, "mask"))
        nodes.append(helper.make_node("Add", ["Ss", "mask"], ["Sm"]))
        last = "Sm"
    nodes += [helper.make_node("Softmax", [last], ["P"], axis=-1),
              helper.make_node("MatMul", ["P", "V"], ["O"])]
    g = helper.make_graph(
        nodes, "sdpa_matmul",
        [helper.make_tensor_value_info(x, F, shape) for x in "QKV"],
        [helper.make_tensor_value_info("O", F, shape)], inits)
    plain = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(plain)

    flat = [b, n, h * d]
    attrs = {"num_heads": h}
    if causal:
        attrs["unidirectional"] = 1
    node = helper.make_node("MultiHeadAttention", ["query", "key", "value"],
                            ["output"], domain="com.microsoft", **attrs)
    g = helper.make_graph(
        [node], "sdpa_mha",
        [helper.make_tensor_value_info(x, F, flat)
         for x in ("query", "key", "value")],
        [helper.make_tensor_value_info("output", F, flat)])
    mha = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                              helper.make_opsetid("com.microsoft", 1)])
    return plain.SerializeToString(), mha.SerializeToString()


class Runner:
    """Builds, for one shape, a no-argument call per system and its output."""

    def __init__(self, so, threads):
        import numpy as np
        import onnxruntime as ort
        import torch
        self.np, self.ort, self.torch = np, ort, torch
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        self.threads = threads
        self.attnc = Attnc(so)

    def session(self, blob):
        so = self.ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = self.ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = \
            self.ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return self.ort.InferenceSession(blob, sess_options=so,
                                         providers=["CPUExecutionProvider"])

    def calls(self, q, k, v, causal):
        """{system: (call, fetch) or str (why n/a)}; fetch() gives the
        output of the last call as a float array [b, h, n, d]."""
        np, torch = self.np, self.torch
        b, h, n, d = q.shape
        out = {}

        o = np.empty_like(q)
        model = "sdpa_d%d%s" % (d, "_causal" if causal else "")
        try:
            call = self.attnc.bind(model, {"Qin": q, "Kin": k, "Vin": v, "O": o})
            out["attnc"] = (call, lambda: o)
        except AttributeError:
            out["attnc"] = "no model for d = %d in bench/peers.attn" % d

        tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))
        box = {}

        def sdpa():
            with torch.inference_mode():
                box["t"] = torch.nn.functional.scaled_dot_product_attention(
                    tq, tk, tv, is_causal=causal)
        out["torch"] = (sdpa, lambda: box["t"].numpy())

        plain, mha = ort_graphs(b, h, n, d, causal)
        try:
            s1 = self.session(plain)
            feeds1 = {"Q": q, "K": k, "V": v}
            box1 = {}

            def ort_plain():
                box1["o"] = s1.run(None, feeds1)[0]
            out["ort_matmul"] = (ort_plain, lambda: box1["o"])
        except Exception as e:  # noqa: BLE001 - any ORT failure is a result
            out["ort_matmul"] = "ORT refused the graph: %s" % str(e).splitlines()[0]

        def flat(x):
            return np.ascontiguousarray(x.transpose(0, 2, 1, 3).reshape(b, n, h * d))
        try:
            s2 = self.session(mha)
            feeds2 = {"query": flat(q), "key": flat(k), "value": flat(v)}
            box2 = {}

            def ort_mha():
                box2["o"] = s2.run(None, feeds2)[0]
            out["ort_mha"] = (ort_mha, lambda: box2["o"].reshape(
                b, n, h, d).transpose(0, 2, 1, 3))
        except Exception as e:  # noqa: BLE001
            out["ort_mha"] = "ORT refused MultiHeadAttention%s: %s" % (
                " (unidirectional)" if causal else "", str(e).splitlines()[0])
        return out


def reference(q, k, v, causal):
    import numpy as np
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    s = q @ k.swapaxes(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        n = s.shape[-1]
        s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    return p @ v


def inputs(rng, h, n, d):
    shape = (1, h, n, d)
    return [rng.standard_normal(shape, dtype="float32") for _ in range(3)]


def worker(args):
    import numpy as np
    threads = args.worker
    result = {"threads": threads, "check": [], "shapes": [], "errors": []}
    result["load_before"] = os.getloadavg()[0]
    result["peak_before"] = run_probe(args.probe, threads)
    runner = Runner(args.so, threads)
    import onnxruntime
    import torch
    result["versions"] = {"torch": torch.__version__,
                          "onnxruntime": onnxruntime.__version__,
                          "numpy": np.__version__}
    rng = np.random.default_rng(7)

    # 1. Every system against float64 on small shapes.
    na = {}  # (system, causal) -> why n/a
    for h, n, d, causal in CHECK_SHAPES:
        q, k, v = inputs(rng, h, n, d)
        ref = reference(q, k, v, causal)
        for system, entry in runner.calls(q, k, v, causal).items():
            if isinstance(entry, str):
                na[(system, causal)] = entry
                continue
            call, fetch = entry
            try:
                call()
                err = float(np.max(np.abs(fetch() - ref)))
            except Exception as e:  # noqa: BLE001
                na[(system, causal)] = "failed: %s" % str(e).splitlines()[0]
                continue
            ok = err <= TOL
            result["check"].append([system, h, n, d, causal, err, ok])
            if not ok:
                if system == "ort_mha" and causal:
                    # An ORT that ignores `unidirectional` gives full attention.
                    na[(system, causal)] = ("MultiHeadAttention with "
                                            "unidirectional=1 is not causal "
                                            "here (max |err| %.3g)" % err)
                else:
                    result["errors"].append(
                        "%s differs from the float64 reference on h=%d n=%d "
                        "d=%d%s: max |err| %.3g > %g" % (
                            system, h, n, d, " causal" if causal else "", err,
                            TOL))
    result["na"] = {"%s/%d" % (s, c): why for (s, c), why in na.items()}
    if result["errors"]:
        return result

    # 2. The shapes, best of `repeat` after a warm-up call.
    per_round = max(1, args.repeat // args.rounds)
    probes = [result["peak_before"]]
    for label, h, n, d, causal in (QUICK_SHAPES if args.quick else SHAPES):
        probes.append(run_probe(args.probe, threads))
        q, k, v = inputs(rng, h, n, d)
        entries = runner.calls(q, k, v, causal)
        runnable = {}
        for system, entry in entries.items():
            why = na.get((system, causal)) or (entry if isinstance(entry, str)
                                               else None)
            if why is None:
                runnable[system] = entry
        times = {s: [] for s in runnable}
        cpu = {s: [0.0, 0.0] for s in runnable}  # process CPU time, wall
        for rnd in range(args.rounds):
            for system, (call, _) in runnable.items():
                time.sleep(args.settle)
                call()  # warm: memory freed and left idle is slow to touch
                c0, w0 = time.process_time(), time.perf_counter()
                for _ in range(per_round):
                    t0 = time.perf_counter()
                    call()
                    times[system].append(time.perf_counter() - t0)
                cpu[system][0] += time.process_time() - c0
                cpu[system][1] += time.perf_counter() - w0
        row = {"label": label, "h": h, "n": n, "d": d, "causal": causal,
               "flops": flops(h, n, d, causal), "ms": {}, "median_ms": {},
               "na": {}, "cores": {}}
        for system in dict(SYSTEMS):
            if system in runnable:
                ts = sorted(times[system])
                row["ms"][system] = 1e3 * ts[0]
                row["median_ms"][system] = 1e3 * ts[len(ts) // 2]
                row["cores"][system] = cpu[system][0] / max(cpu[system][1], 1e-9)
            else:
                why = na.get((system, causal)) or entries[system]
                row["na"][system] = why
        if "attnc" in runnable and "torch" in runnable:
            diff = float(np.max(np.abs(entries["attnc"][1]() -
                                       entries["torch"][1]())))
            row["attnc_vs_torch"] = diff
            if not diff <= TOL:
                result["errors"].append(
                    "%s: attnc and PyTorch differ by %.3g > %g" % (label, diff, TOL))
        result["shapes"].append(row)
        log("   %d thread(s) %-22s %s" % (threads, label, "  ".join(
            "%s %.1f ms" % (s, row["ms"][s]) for s in row["ms"])))
        del entries, runnable
    result["peak_after"] = run_probe(args.probe, threads)
    probes.append(result["peak_after"])
    result["peaks"] = [x for x in probes if x]
    result["load_after"] = os.getloadavg()[0]
    return result


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


def peak_of(res):
    vals = res.get("peaks") or []
    return max(vals) if vals else None


def report(results, args, out=sys.stdout):
    def p(s=""):
        print(s, file=out)
    names = dict(SYSTEMS)
    first = results[0]
    p("attnc vs peers, fp32 forward, batch 1, Q/K/V given, scaled dot; best of "
      "%d timed calls after a warm-up (%d rounds over the systems)"
      % (args.repeat, args.rounds))
    p("host: %s, %d CPUs; torch %s, onnxruntime %s, numpy %s" % (
        platform.machine(), os.cpu_count() or 0, first["versions"]["torch"],
        first["versions"]["onnxruntime"], first["versions"]["numpy"]))
    p("cells: ms / GFLOP/s (% of the FMA peak); GFLOP/s = 4 h n^2 d / time, "
      "causal: 2 h n (n+1) d / time; ratios: attnc time / peer time (< 1: "
      "attnc faster)")
    for res in results:
        shapes = res["shapes"]
        peak = peak_of(res)
        p()
        p("%d thread%s, FMA peak %s GFLOP/s (the best of the probes run "
          "before each shape and at the end: %s; load average before/after: "
          "%.1f / %.1f)" % (
              res["threads"], "" if res["threads"] == 1 else "s",
              "%.0f" % peak if peak else "n/a",
              " ".join("%.0f" % x for x in res.get("peaks") or []),
              res["load_before"], res["load_after"]))
        if peak and min(res["peaks"]) < 0.8 * peak:
            p("(the probes disagree by more than 20%: the machine was busy, "
              "and a % of peak above 100 means the probe never had the cores "
              "to itself)")
        p()
        p("| %d thr | %s |" % (res["threads"], " | ".join(r["label"] for r in shapes)))
        p("|---|%s" % ("---|" * len(shapes)))
        for system, name in SYSTEMS:
            cells = []
            for r in shapes:
                ms = r["ms"].get(system)
                if ms is None:
                    cells.append("n/a")
                    continue
                gf = r["flops"] / (ms * 1e-3) * 1e-9
                pct = " (%.0f%%)" % (100 * gf / peak) if peak else ""
                cells.append("%.1f / %.0f%s" % (ms, gf, pct))
            p("| %s | %s |" % (name, " | ".join(cells)))
        for peer in PEERS + ["best"]:
            cells = []
            for r in shapes:
                a = r["ms"].get("attnc")
                if peer == "best":
                    ps = [r["ms"][s] for s in PEERS if s in r["ms"]]
                    t = min(ps) if ps else None
                else:
                    t = r["ms"].get(peer)
                cells.append("%.2f" % (a / t) if a and t else "n/a")
            what = "best peer" if peer == "best" else names[peer]
            p("| attnc / %s | %s |" % (what, " | ".join(cells)))
        p()
        p("CPU time / wall time of the process during each system's timed "
          "calls (how many cores it had; spinning pools count): " + "; ".join(
              "%s %s" % (r["label"], " ".join(
                  "%.1f" % r["cores"][s] for s, _ in SYSTEMS if s in r["cores"]))
              for r in shapes) + " (in the order of the rows)")
        diffs = ["%s %.1e" % (r["label"], r["attnc_vs_torch"])
                 for r in shapes if "attnc_vs_torch" in r]
        if diffs:
            p()
            p("max |attnc - PyTorch| at each shape: " + ", ".join(diffs))
        nas = {}
        for r in shapes:
            for s, why in r["na"].items():
                nas.setdefault((s, why), []).append(r["label"])
        for (s, why), labels in sorted(nas.items()):
            p("n/a: %s on %s: %s" % (names[s], ", ".join(labels), why))
    checks = results[0]["check"]
    if checks:
        worst = {}
        for system, h, n, d, causal, err, ok in checks:
            worst[system] = max(worst.get(system, 0.0), err)
        p()
        p("checked against float64 on %d small shapes (h, n, d = %s, causal "
          "and not; each thread count): max |err| %s" % (
              len(CHECK_SHAPES),
              ", ".join(sorted({"%d,%d,%d" % (h, n, d) for h, n, d, _ in CHECK_SHAPES})),
              ", ".join("%s %.1e" % (names[s], e) for s, e in worst.items())))


# ---------------------------------------------------------------------------


def parse(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--venv", default=os.path.join(ROOT, "build", "peers-venv"),
                    help="the virtual environment (default build/peers-venv)")
    ap.add_argument("--attnc", default=os.path.join(ROOT, "build", "bin", "attnc"))
    ap.add_argument("--attnc-flags", default="",
                    help="extra attnc options, e.g. '-O3 --tile-size=128'")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "build", "peers"),
                    help="where the compiled model and probe go")
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--repeat", type=int, default=8, help="timed calls (default 8)")
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds the timed calls are split over (default 2)")
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds of sleep before each system's calls")
    ap.add_argument("--quick", action="store_true", help="small shapes")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-install", action="store_true",
                    help="use the venv as it is")
    ap.add_argument("--pip-args", default="", help="extra pip install options")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--so", help=argparse.SUPPRESS)
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    for name in ("venv", "attnc", "workdir"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    args.rounds = max(1, min(args.rounds, args.repeat))
    return args


def main(argv):
    args = parse(argv)
    if args.worker:
        res = worker(args)
        with open(args.out, "w") as f:
            json.dump(res, f)
        return 0

    py = ensure_venv(args)
    if os.path.realpath(sys.prefix) != os.path.realpath(args.venv):
        # The rest runs inside the venv (its numpy reads the results).
        os.execv(py, [py, os.path.abspath(__file__)] + argv + ["--no-install"])

    so, probe = build(args)
    results = []
    for threads in [int(t) for t in args.threads.split(",") if t]:
        log("== %d thread(s)" % threads)
        fd, out = tempfile.mkstemp(prefix="peers-", suffix=".json",
                                   dir=args.workdir)
        os.close(fd)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker",
               str(threads), "--so", so, "--out", out] + argv
        if probe:
            cmd += ["--probe", probe]
        r = subprocess.run(cmd, env=thread_env(threads))
        if r.returncode != 0:
            die("the %d-thread worker failed (status %d)" % (threads, r.returncode))
        with open(out) as f:
            results.append(json.load(f))
        os.unlink(out)
        if results[-1]["errors"]:
            die("wrong results:\n  " + "\n  ".join(results[-1]["errors"]))
    report(results, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
