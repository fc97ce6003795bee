"""Helpers of the attnc integration and runtime tests (no numpy needed).

  * compile(source)            -> a loaded Library (attnc file.attn -o lib.so)
  * Library.model(name)        -> a Model: call(), signature(), last_error()
  * Tensor(values, shape)      -> an attnc_tensor over an array.array buffer
  * run_case(...)              -> compile, fill random data, call, compare
                                  with reference.evaluate
  * Checker                    -> collects failures, exits 1 at the end

Tolerance (stated here only): an fp32 result `got` matches the double
reference `ref` when

    |got - ref| <= ATOL + RTOL * |ref|,   ATOL = RTOL = 1e-4.

A bf16 or f16 output is the f32 result rounded to nearest even, so its bound
adds the type's rounding: |got - ref| <= ATOL + (RTOL + U) * |ref|, with U
twice the unit roundoff (U = 2^-8 for bf16's 8-bit significand, 2^-10 for
f16's 11-bit one). bf16/f16 inputs and params are exactly representable
values (random_tensors rounds them), and the reference reads those values.

Why: inputs are rounded to fp32 before the reference sees them, so only the
kernels' own rounding counts. Our data are O(1) and reductions are at most a
few hundred terms long, so accumulated fp32 rounding is about
sqrt(n) * 6e-8 * sum|terms| ~ 1e-6; exp/tanh/sqrt approximations add about
1e-6 relative, and a score error de changes a softmax weight by about a * de.
1e-4 leaves a margin of ~100x over that while still catching any wrong
formula, mask off-by-one, or wrong index (those give errors of order 1e-2+).
"""

import array
import atexit
import struct
import ctypes
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import traceback

import reference

ATOL = 1e-4
RTOL = 1e-4

ATTNC_F32, ATTNC_F64, ATTNC_F16, ATTNC_BF16, ATTNC_I32, ATTNC_I64 = range(6)
# The added relative tolerance of an output of each 16-bit float type (see
# the module's docstring).
ROUNDING = {ATTNC_BF16: 2.0 ** -8, ATTNC_F16: 2.0 ** -10}
MAX_RANK = 8
SENTINEL = 12345.0


class attnc_tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.c_int64 * MAX_RANK),
        ("strides", ctypes.c_int64 * MAX_RANK),
    ]


# ---------------------------------------------------------------------------
# Compiling and loading
# ---------------------------------------------------------------------------


def find_attnc():
    tools = os.environ.get("ATTNC_TOOLS_DIR")
    if tools and os.path.exists(os.path.join(tools, "attnc")):
        return os.path.join(tools, "attnc")
    found = shutil.which("attnc")
    if found:
        return found
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.join(here, "..", "..", "build", "bin", "attnc")
    if os.path.exists(guess):
        return os.path.abspath(guess)
    raise RuntimeError("attnc not found: put it on PATH or set ATTNC_TOOLS_DIR")


def attnc_version():
    """What `attnc --version` prints (the version and the host's defaults)."""
    return subprocess.run([find_attnc(), "--version"], env=tool_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True).stdout


def tool_env():
    """The environment for starting attnc and the other tools of the build.
    In a sanitized run (test/lit.cfg.py) this Python preloads the ASan
    runtime with leak detection off; a sanitized tool loads that runtime by
    itself, and gets its leak checker back (ATTNC_TOOL_ASAN_OPTIONS), while
    the programs it starts in turn (the linker) are not instrumented and must
    not get the preload."""
    env = dict(os.environ)
    if "ATTNC_TOOL_ASAN_OPTIONS" in env:
        env.pop("LD_PRELOAD", None)
        env["ASAN_OPTIONS"] = env["ATTNC_TOOL_ASAN_OPTIONS"]
    return env


_tmpdir = None
_cache = {}


def _workdir():
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = tempfile.mkdtemp(prefix="attnc-test-")
        if not os.environ.get("ATTNC_TEST_KEEP"):
            atexit.register(shutil.rmtree, _tmpdir, True)
    return _tmpdir


class CompileError(Exception):
    pass


def compile(source, extra_args=()):
    """Compiles a .attn source string; returns a Library (cached).
    $ATTNC_TEST_FLAGS (e.g. "-O0") adds options to every compilation."""
    extra_args = tuple(os.environ.get("ATTNC_TEST_FLAGS", "").split()) + \
        tuple(extra_args)
    key = hashlib.sha1((source + "\0" + " ".join(extra_args)).encode()).hexdigest()[:16]
    if key in _cache:
        if isinstance(_cache[key], CompileError):
            raise _cache[key]
        return _cache[key]
    d = _workdir()
    src = os.path.join(d, "m_%s.attn" % key)
    so = os.path.join(d, "libm_%s.so" % key)
    with open(src, "w") as f:
        f.write(source)
    proc = subprocess.run([find_attnc(), src, "-o", so] + list(extra_args),
                          env=tool_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0 or not os.path.exists(so):
        _cache[key] = CompileError("attnc failed (status %d) on:\n%s\n%s%s" % (
            proc.returncode, source, proc.stdout, proc.stderr))
        raise _cache[key]
    lib = Library(ctypes.CDLL(so), so, source)
    _cache[key] = lib
    return lib


class Library:
    def __init__(self, cdll, path, source):
        self.cdll = cdll
        self.path = path
        self.source = source

    def model(self, name):
        return Model(self, name)


class Model:
    def __init__(self, lib, name):
        self.lib = lib
        self.name = name
        c = lib.cdll
        self.fn = getattr(c, "attnc_" + name)
        self.fn.restype = ctypes.c_int32
        self.fn.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        self._sig = getattr(c, "attnc_%s_signature" % name)
        self._sig.restype = ctypes.c_char_p
        self._sig.argtypes = []
        self._err = getattr(c, "attnc_%s_last_error" % name)
        self._err.restype = ctypes.c_char_p
        self._err.argtypes = []

    def signature_text(self):
        return self._sig().decode()

    def signature(self):
        return json.loads(self.signature_text())

    def last_error(self):
        r = self._err()
        return "" if r is None else r.decode()

    def call(self, tensors, nargs=None, null_args=False):
        """Calls the model with a list of Tensor; returns the status."""
        n = len(tensors)
        arr = (attnc_tensor * max(n, 1))()
        for i, t in enumerate(tensors):
            arr[i] = t.desc
        if nargs is None:
            nargs = n
        ptr = None if null_args else ctypes.cast(arr, ctypes.c_void_p)
        rc = self.fn(ptr, nargs)
        return rc


# ---------------------------------------------------------------------------
# Tensors
# ---------------------------------------------------------------------------


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def row_major_strides(shape):
    st, s = [], 1
    for d in reversed(shape):
        st.append(s)
        s *= d
    return list(reversed(st))


_TYPECODE = {ATTNC_F32: "f", ATTNC_F64: "d", ATTNC_I32: "i", ATTNC_I64: "q",
             ATTNC_F16: "H", ATTNC_BF16: "H"}
DTYPES = {"f32": ATTNC_F32, "f64": ATTNC_F64, "f16": ATTNC_F16,
          "bf16": ATTNC_BF16, "i32": ATTNC_I32, "i64": ATTNC_I64}


def f16_bits(v):
    """The IEEE half nearest to v (ties to even), as its 16 bits."""
    return struct.unpack("<H", struct.pack("<e", v))[0]


def bf16_bits(v):
    """The bfloat16 nearest to the fp32 nearest to v (ties to even), as its
    16 bits."""
    u = struct.unpack("<I", struct.pack("<f", v))[0]
    if (u & 0x7F800000) == 0x7F800000 and (u & 0x7FFFFF):
        return (u >> 16) | 0x40  # NaN stays a (quiet) NaN
    return (u + 0x7FFF + ((u >> 16) & 1)) >> 16


def from_bits(dtype, h):
    """The value of a 16-bit float (f16 or bf16) given by its bits."""
    if dtype == ATTNC_F16:
        return struct.unpack("<e", struct.pack("<H", h))[0]
    return struct.unpack("<f", struct.pack("<I", h << 16))[0]


def rounded(dtype, values):
    """The values as an argument of `dtype` holds them, as Python floats
    (integer types: unchanged)."""
    if dtype == ATTNC_F32:
        return rounded_f32(values)
    if dtype in (ATTNC_F16, ATTNC_BF16):
        bits = f16_bits if dtype == ATTNC_F16 else bf16_bits
        return [from_bits(dtype, bits(v)) for v in values]
    return list(values)


class Tensor:
    """A row-major tensor over an array.array buffer, with its descriptor.
    f16 and bf16 values are stored as their bits (rounded to nearest even).

    `null_data=True` passes NULL as data (legal only with zero elements).
    The descriptor (`desc`) can be edited to build bad arguments.
    """

    def __init__(self, values, shape, dtype=ATTNC_F32, null_data=False,
                 strides=None, buffer=None):
        self.shape = list(shape)
        self.dtype = dtype
        n = prod(self.shape)
        if buffer is not None:
            self.buf = buffer
        else:
            vals = list(values)
            assert len(vals) == n, (len(vals), shape)
            code = _TYPECODE[dtype]
            if dtype == ATTNC_F16:
                vals = [f16_bits(v) for v in vals]
            elif dtype == ATTNC_BF16:
                vals = [bf16_bits(v) for v in vals]
            elif code in "iq":
                vals = [int(v) for v in vals]
            # At least one element, so that the buffer has an address.
            self.buf = array.array(code, vals if vals else [0])
        d = attnc_tensor()
        d.data = None if null_data else self.buf.buffer_info()[0]
        d.dtype = dtype
        d.rank = len(self.shape)
        st = strides if strides is not None else row_major_strides(self.shape)
        for i, (s, t) in enumerate(zip(self.shape, st)):
            d.shape[i] = s
            d.strides[i] = t
        self.desc = d
        self.n = n

    def values(self):
        if self.dtype in (ATTNC_F16, ATTNC_BF16):
            return [from_bits(self.dtype, h) for h in self.buf[:self.n]]
        return [float(v) for v in self.buf[:self.n]]

    @staticmethod
    def full(shape, value, dtype=ATTNC_F32, **kw):
        return Tensor([value] * prod(shape), shape, dtype, **kw)


def rounded_f32(values):
    """The values as fp32 would hold them, back as Python floats."""
    return [float(v) for v in array.array("f", values)]


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------


def close(got, ref, u=0.0, atol=0.0):
    """Whether `got` matches `ref` (u: the added relative tolerance of a
    16-bit float output, ROUNDING[dtype]; atol: an added absolute one, see
    run_case)."""
    if math.isinf(ref) and got == ref:  # a log-sum-exp over no key: -inf
        return True
    if math.isnan(got) or math.isinf(got):
        return False
    return abs(got - ref) <= ATOL + atol + (RTOL + u) * abs(ref)


def compare(name, got, ref, u=0.0, atol=0.0):
    """None if every element matches; else a message about the worst one."""
    if len(got) != len(ref):
        return "%s: %d elements, expected %d" % (name, len(got), len(ref))
    worst, wi, nbad = -1.0, -1, 0
    for i, (g, r) in enumerate(zip(got, ref)):
        if not close(g, r, u, atol):
            nbad += 1
            err = float("inf") if (math.isnan(g) or math.isinf(g)) else abs(g - r)
            if err > worst:
                worst, wi = err, i
    if nbad == 0:
        return None
    return ("%s: %d of %d elements differ; worst at flat index %d: got %r, "
            "expected %r (|err| = %.3g, tol = %.3g)" % (
                name, nbad, len(ref), wi, got[wi], ref[wi], worst,
                ATOL + atol + (RTOL + u) * abs(ref[wi])))


def unravel(i, shape):
    idx = []
    for s in reversed(shape):
        idx.append(i % s if s else 0)
        i = i // s if s else 0
    return list(reversed(idx))


# ---------------------------------------------------------------------------
# Running a model against the reference
# ---------------------------------------------------------------------------


def resolve(shape, dims):
    out = []
    for s in shape:
        if isinstance(s, str):
            if s not in dims:
                raise KeyError("no value given for dynamic dimension %r" % s)
            out.append(dims[s])
        else:
            out.append(int(s))
    return out


def random_tensors(sig, dims, seed, overrides=None, scale=None):
    """Random values for every input and param of a signature.

    f32, bf16, f16: uniform in [-1, 1) (times scale[name] if given), rounded
    to the argument's type.
    i32: uniform integers in [-2, n + 2] where n is the largest dim value
    (lengths; clamping is part of the semantics being tested).
    `overrides` maps a name to a flat list of values (or a function
    (shape, rng, dims) -> flat list).
    """
    rng = random.Random(seed)
    overrides = overrides or {}
    scale = scale or {}
    out = {}
    hi = max([v for v in dims.values()] + [1])
    for a in sig["args"]:
        if a["role"] == "output":
            continue
        shape = resolve(a["shape"], dims)
        n = prod(shape)
        if a["name"] in overrides:
            o = overrides[a["name"]]
            vals = o(shape, rng, dims) if callable(o) else list(o)
        elif a["dtype"] == "i32":
            vals = [rng.randint(-2, hi + 2) for _ in range(n)]
        else:
            s = scale.get(a["name"], 1.0)
            vals = [rng.uniform(-1.0, 1.0) * s for _ in range(n)]
        vals = rounded(DTYPES[a["dtype"]], vals)
        out[a["name"]] = (shape, vals)
    return out


class CaseFailure(Exception):
    pass


def run_case(source, model_name, spec, dims, seed=0, overrides=None,
             scale=None, null_empty=True, label="", show=None, flags=(),
             atol=0.0):
    """Compiles `source` (with the attnc options `flags`), runs model
    `model_name` on random data with the dynamic dims `dims` and compares
    every output with reference.evaluate(spec, ...), with `atol` added to
    the absolute tolerance (stated by the caller: e.g. bf16 dot products).
    Raises CaseFailure with a reproducible description on any mismatch
    (showing `show`, by default the source)."""
    shown = source if show is None else show
    what = "%s%s dims=%s seed=%d%s" % (label + ": " if label else "",
                                       model_name, dims, seed,
                                       " " + " ".join(flags) if flags else "")
    # Printed first, so that a crash in the call shows which case it was.
    print("case:", what, flush=True)
    lib = compile(source, flags)
    m = lib.model(model_name)
    sig = m.signature()
    data = random_tensors(sig, dims, seed, overrides, scale)
    tensors, outs = [], []
    for a in sig["args"]:
        dt = DTYPES[a["dtype"]]
        shape = resolve(a["shape"], dims)
        empty = prod(shape) == 0
        if a["role"] == "output":
            t = Tensor.full(shape, SENTINEL, dt, null_data=(null_empty and empty))
            outs.append((a["name"], t))
        else:
            t = Tensor(data[a["name"]][1], shape, dt,
                       null_data=(null_empty and empty))
        tensors.append(t)
    inputs_before = [list(t.buf) for t in tensors]
    rc = m.call(tensors)
    if rc != 0:
        raise CaseFailure("%s: attnc_%s returned %d: %s\n--- source:\n%s" % (
            what, model_name, rc, m.last_error(), shown))
    expected = reference.evaluate(spec, data)
    problems = []
    for a, t, before in zip(sig["args"], tensors, inputs_before):
        if a["role"] != "output" and list(t.buf) != before:
            problems.append("%s %s was modified by the call" % (a["role"], a["name"]))
    for name, t in outs:
        got = t.values()
        if expected is None:  # no batch entry: outputs are empty
            if t.n != 0:
                problems.append("%s: expected no element, shape %s" % (name, t.shape))
            continue
        eshape, evals = expected[name]
        if list(eshape) != list(t.shape):
            problems.append("%s: signature shape %s (resolved), reference "
                            "shape %s" % (name, t.shape, eshape))
            continue
        u = ROUNDING.get(t.dtype, 0.0)
        msg = compare(name, got, evals, u, atol)
        if msg:
            wi = None
            for i, (g, r) in enumerate(zip(got, evals)):
                if not close(g, r, u, atol):
                    wi = i
                    break
            msg += "; first bad at index %s: got %r expected %r" % (
                unravel(wi, t.shape), got[wi], evals[wi])
            if any(g == SENTINEL for g in got):
                msg += " (some elements were never written: sentinel %g)" % SENTINEL
            problems.append(msg)
    if problems:
        raise CaseFailure("%s:\n  %s\n--- source:\n%s" % (
            what, "\n  ".join(problems), shown))


class Checker:
    """Runs cases, reports every failure, and exits non-zero if any."""

    def __init__(self):
        self.failures = []
        self.count = 0

    def run(self, fn, *args, **kw):
        self.count += 1
        try:
            fn(*args, **kw)
        except (CaseFailure, CompileError, AssertionError) as e:
            if str(e) in self.failures:  # e.g. the same compile error
                self.failures.append(str(e))
                print("FAIL (again): %s" % str(e).splitlines()[0], file=sys.stderr)
                return
            self.failures.append(str(e))
            print("FAIL: %s\n" % e, file=sys.stderr)
        except Exception:
            msg = traceback.format_exc()
            self.failures.append(msg)
            print("ERROR: %s\n" % msg, file=sys.stderr)

    def case(self, *args, **kw):
        self.run(run_case, *args, **kw)

    def check(self, cond, msg):
        self.count += 1
        if not cond:
            self.failures.append(msg)
            print("FAIL: %s\n" % msg, file=sys.stderr)

    def finish(self):
        print("%d checks, %d failed" % (self.count, len(self.failures)))
        sys.exit(1 if self.failures else 0)


# ---------------------------------------------------------------------------
# Source builders shared by several tests
# ---------------------------------------------------------------------------

# Declarations of the params of each score function (d: key dim, d_q: query
# dim, d_w: hidden dim of additive), and their names in the source.
SCORE_DECLS = {
    "additive": ("W1 : f32[d_w, d_q]\n  param W2 : f32[d_w, d]\n"
                 "  param bw : f32[d_w]\n  param w : f32[d_w]", ["W1", "W2", "bw", "w"]),
    "dot": ("", []),
    "scaled_dot": ("", []),
    "general": ("W : f32[d, d_q]", ["W"]),
    "biased_general": ("W : f32[d, d_q]\n  param bb : f32[d]", ["W", "bb"]),
    "activated_general": ("W : f32[d, d_q]\n  param ba : f32[]", ["W", "ba"]),
    "cosine": ("", []),
    "neg_sq_euclidean": ("", []),
}
SAME_DIM_SCORES = ("dot", "scaled_dot", "cosine", "neg_sq_euclidean")


def score_model(name, kind, act=None, causal=False, lengths=False,
                single_query=False, d=17, d_q=3, d_w=5, bias_shape=None,
                weights=True):
    """A model: keys = values = X [b, n_k, d], queries S [b, n_q, d_q] (or
    s [b, d_q]), the given score and masks, outputs c and (if `weights`) a.
    Returns (source, spec) where spec is for reference.evaluate."""
    if kind in SAME_DIM_SCORES:
        d_q = d
    decl, params = SCORE_DECLS[kind]
    if bias_shape is not None:
        decl = decl.replace("ba : f32[]", "ba : f32[%s]" % bias_shape)
    qname = "s" if single_query else "S"
    qshape = "b, d_q" if single_query else "b, n_q, d_q"
    lines = ["model %s {" % name,
             "  dims n_k,%s d = %d, d_q = %d, d_w = %d" % (
                 "" if single_query else " n_q,", d, d_q, d_w),
             "  batch b",
             "  input X : f32[b, n_k, d]",
             "  input %s : f32[%s]" % (qname, qshape)]
    inputs = ["X", qname]
    if lengths:
        lines.append("  input L : i32[b]")
        inputs.append("L")
    if decl:
        lines.append("  param " + decl)
    lines += ["  query q = %s" % qname,
              "  keys K = X",
              "  values V = X"]
    args = ", ".join(["q", "K"])
    if params:
        args += "; " + ", ".join(params)
    if act is not None:
        args += ", act = " + act
    lines.append("  score e = %s(%s)" % (kind, args))
    masks = (["causal"] if causal else []) + (["lengths(L)"] if lengths else [])
    if masks:
        lines.append("  mask " + ", ".join(masks))
    lines += ["  align a = softmax(e)",
              "  context c = sum(a * V)",
              "  output y = c"] + (["  output A = a"] if weights else []) + [
              "}", ""]
    spec = {"batch": 1, "inputs": inputs, "query": (qname, None, None),
            "keys": ("X", None, None), "values": ("X", None, None),
            "score": (kind, params, act or "tanh"), "causal": causal,
            "lengths": "L" if lengths else None,
            "outputs": [("y", "c")] + ([("A", "a")] if weights else [])}
    return "\n".join(lines), spec


def dot_model(name, dtype, d, dv, heads=True, causal=False, lengths=False,
              score="scaled_dot", nq=None, weights=False):
    """A softmax model over Q [b, (h,) n_q, d], K [b, (h,) n_k, d] and
    V [b, (h,) n_k, d_v] of `dtype`, output y of `dtype` too (f32 when dtype
    is f32), with `score` (scaled_dot, dot, cosine), a static n_q if `nq`,
    a causal and a lengths(L) mask (L : i32[b(, h)]) and the weights output
    w if asked. Returns (source, spec) where spec is for
    reference.evaluate."""
    h = "h, " if heads else ""
    out = "" if dtype == "f32" else " : " + dtype
    masks = (["causal"] if causal else []) + (["lengths(L)"] if lengths else [])
    source = """
model %s {
  dims %sn_q%s, n_k, d = %d, d_v = %d
  batch b
  input Q : %s[b, %sn_q, d]
  input K : %s[b, %sn_k, d]
  input V : %s[b, %sn_k, d_v]
  %s
  query q = Q
  keys Kk = K
  values Vv = V
  score e = %s(q, Kk)
  %s
  align a = softmax(e)
  context c = sum(a * Vv)
  output y%s = c
  %s
}
""" % (name, h, " = %d" % nq if nq else "", d, dv, dtype, h, dtype, h,
       dtype, h,
       "input L : i32[b%s]" % (", h" if heads else "") if lengths else "",
       score, "mask " + ", ".join(masks) if masks else "", out,
       "output w%s = a" % out if weights else "")
    # The reference takes the group dims (b, h) as independent attentions.
    spec = {"batch": 2 if heads else 1,
            "inputs": ["Q", "K", "V"] + (["L"] if lengths else []),
            "query": ("Q", None, None), "keys": ("K", None, None),
            "values": ("V", None, None), "score": (score, [], None),
            "causal": causal, "lengths": "L" if lengths else None,
            "outputs": [("y", "c")] + ([("w", "a")] if weights else [])}
    return source, spec


def zero_rows(every=3):
    """An override giving random rows, every `every`-th one all zero (for
    cosine with a zero norm)."""
    def make(shape, rng, dims):
        n = prod(shape)
        vals = [rng.uniform(-1, 1) for _ in range(n)]
        w = shape[-1] if shape else 1
        for r in range(0, n // w if w else 0):
            if r % every == 0:
                for j in range(w):
                    vals[r * w + j] = 0.0
        return vals
    return make


def lengths_override(shape, rng, dims):
    """Lengths for `mask lengths`: 0, 1, n_k / 2, n_k and out-of-range values
    (negative, above n_k: clamped), cycling over the batch entries."""
    n_k = dims.get("n_k", dims.get("n", 0))
    pool = [n_k // 2, 0, n_k, -3, n_k + 5, 1, max(n_k - 1, 0)]
    # With several entries, start at n_k / 2, 0, n_k, ... so that a clamped
    # and a zero length are always there; a single entry picks one at random.
    start = rng.randrange(len(pool)) if prod(shape) < 2 else 0
    return [pool[(start + i) % len(pool)] for i in range(prod(shape))]


def run_models(checker, models, size_list, seed=1, overrides=None,
               scale=None):
    """Compiles the models [(name, source, spec)] as one file (several models
    in one file), runs each on every dims dict of size_list (a list, or a
    function name -> list), comparing with the reference. If the combined
    file does not compile, each model is compiled alone, so that the failure
    names the model."""
    combined = "\n".join(src for _, src, _ in models)
    try:
        compile(combined)
        sources = {name: combined for name, _, _ in models}
    except CompileError as e:
        checker.check(False, "the file of %d models did not compile; compiling "
                      "them one by one. %s" % (len(models), e))
        sources = {name: src for name, src, _ in models}
    for name, src, spec in models:
        sizes = size_list(name) if callable(size_list) else size_list
        ov = overrides(name) if callable(overrides) else overrides
        for i, dims in enumerate(sizes):
            checker.case(sources[name], name, spec, dims, seed=seed + i,
                         overrides=ov, scale=scale, show=src)


# ---------------------------------------------------------------------------
# The score-function x mask suites (score_masks*.py)
# ---------------------------------------------------------------------------

MASK_SUITE_KINDS = [("additive", "sigmoid"), ("dot", None),
                    ("scaled_dot", None), ("general", None),
                    ("biased_general", None), ("activated_general", "relu"),
                    ("cosine", None)]


def run_mask_suite(masks, big_if, seed):
    """Every score function (MASK_SUITE_KINDS) with each of `masks` (tuples
    (name, causal, lengths)), with several queries and with a single one, on
    sizes where n_q < n_k, = n_k and > n_k (so that some causal rows see no
    key), plus one square 65 x 65 case (two 64-key tiles) for the mask names
    containing `big_if`. Cosine gets zero rows. Exits 1 on any failure."""
    models = []
    for kind, act in MASK_SUITE_KINDS:
        for mname, causal, lengths in masks:
            name = "%s_%s" % (kind, mname)
            src, spec = score_model(name, kind, act, causal=causal,
                                    lengths=lengths)
            models.append((name, src, spec))
            name1 = name + "_1q"
            src, spec = score_model(name1, kind, act, causal=causal,
                                    lengths=lengths, single_query=True)
            models.append((name1, src, spec))

    # (n_q, n_k, b)
    size_list = [(1, 1, 1), (3, 7, 3), (7, 7, 2), (13, 5, 2), (4, 31, 3),
                 (2, 67, 3), (3, 130, 3)]

    def sizes(name):
        if name.endswith("_1q"):  # n_q does not matter
            chosen = [size_list[0], size_list[1], size_list[5], size_list[6]]
        else:
            chosen = size_list + ([(65, 65, 1)] if big_if in name else [])
        return [{"n_q": nq, "n_k": nk, "b": b} for nq, nk, b in chosen]

    def overrides(name):
        ov = {"L": lengths_override}
        if name.startswith("cosine"):
            ov.update({"X": zero_rows(3), "S": zero_rows(2),
                       "s": zero_rows(2)})
        return ov

    checker = Checker()
    run_models(checker, models, sizes, seed=seed, overrides=overrides,
               scale={"W": 2.0, "w": 3.0})
    checker.finish()
