#!/usr/bin/env python3
"""The device check of attnc's CUDA libraries (docs/gpu-benchmark.md).

Runs on the device machine with python3 + numpy + torch only: it compiles
nothing, it loads the libraries that bench/gpu/prepare.sh built elsewhere
into bench/gpu/out/ (carried over) with ctypes.

  numerics   every model of bench/gpu/numerics.attn at awkward sizes, through
             both entry points (attnc_M with numpy host arrays, attnc_M_cuda
             with torch CUDA tensors on torch's current stream), against a
             float64 numpy reference written here from the formulas of
             shared/TAXONOMY.md and docs/language.md:
               |got - ref| <= 1e-4 + (1e-4 + u) |ref|
             u = 0 for f32 outputs, 2^-8 for bf16, 2^-10 for f16 (the
             rounding of the stored result; inputs of those types are
             rounded first and the reference uses the rounded values).
             Error paths: a wrong dtype gives 2 with its message (both entry
             points), a host pointer to attnc_M_cuda gives 10.
  benchmark  attnc_M_cuda of bench/peers.attn (SDPA over [b, h, n, d]) against
             torch.nn.functional.scaled_dot_product_attention in fp32, and
             bf16/fp16 SDPA (FlashAttention's rate) for reference; TFLOP/s
             with 4 b h n^2 d FLOPs (causal: 2 b h n (n + 1) d), best of N
             (torch.cuda.Event), attnc's output checked against fp32 SDPA.
             attnc's kernels are naive: a shape whose predicted time
             (from the smaller shapes) exceeds --cap seconds is skipped.

  python3 bench/gpu/device_check.py [--quick] [--full] [--cap S]
  python3 bench/gpu/device_check.py --cpu-selftest   # no GPU: the references
        against out/cpu (--target=host) and out/sched (--gpu-schedule-on-host)

Writes device_check.json and device_check.md to $OUT when OUT is set.
Exit status: 0 all checks passed, 1 a check failed, 2 the kit is missing.
"""

import argparse
import ctypes
import faulthandler
import json
import math
import os
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.join(HERE, "out")

F32, F64, F16, BF16, I32, I64 = range(6)
DTYPE_CODES = {"f32": F32, "f64": F64, "f16": F16, "bf16": BF16, "i32": I32,
               "i64": I64}
DTYPE_NAMES = {v: k for k, v in DTYPE_CODES.items()}
# numpy storage of each dtype (bf16: its bits, uint16).
NP_STORAGE = {F32: np.float32, F16: np.float16, BF16: np.uint16, I32: np.int32}
ATOL = 1e-4
RTOL = 1e-4
ROUNDING = {F32: 0.0, BF16: 2.0 ** -8, F16: 2.0 ** -10}
MAX_RANK = 8
ERR_TYPE = 2
ERR_DEVICE_POINTER = 10
# torch's device for the CUDA paths (mock_device_selftest.py sets "cpu").
DEVICE = "cuda"


class attnc_tensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("dtype", ctypes.c_int32),
        ("rank", ctypes.c_int32),
        ("shape", ctypes.c_int64 * MAX_RANK),
        ("strides", ctypes.c_int64 * MAX_RANK),
    ]


def descriptor(ptr, dtype, shape):
    t = attnc_tensor()
    t.data = ptr or None
    t.dtype = dtype
    t.rank = len(shape)
    stride = 1
    for i in reversed(range(len(shape))):
        t.shape[i] = shape[i]
        t.strides[i] = stride
        stride *= shape[i]
    return t


# ---------------------------------------------------------------------------
# bf16 / f16 storage
# ---------------------------------------------------------------------------

def bf16_bits(x):
    """float64 array -> bf16 bits (uint16), rounded to nearest even (from
    the f32 value; our data are f32-exact before)."""
    f = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    f = f.astype(np.uint64)
    r = (f + 0x7FFF + ((f >> 16) & 1)) >> 16
    return r.astype(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def to_storage(x, dtype):
    """float64/int array -> (numpy storage array, the float64 value the
    model sees)."""
    if dtype == F32:
        s = np.ascontiguousarray(x, dtype=np.float32)
        return s, s.astype(np.float64)
    if dtype == F16:
        s = np.ascontiguousarray(x, dtype=np.float16)
        return s, s.astype(np.float64)
    if dtype == BF16:
        s = bf16_bits(x)
        return s, bf16_value(s)
    if dtype == I32:
        s = np.ascontiguousarray(x, dtype=np.int32)
        return s, s.astype(np.int64)
    raise ValueError("dtype %d" % dtype)


def from_storage(s, dtype):
    if dtype == BF16:
        return bf16_value(s)
    return s.astype(np.float64)


def nan_fill(shape, dtype):
    """An output buffer full of NaN (unwritten elements fail the check)."""
    if dtype == BF16:
        return np.full(shape, 0x7FC0, dtype=np.uint16)
    if dtype == I32:
        return np.full(shape, -12345, dtype=np.int32)
    return np.full(shape, np.nan, dtype=NP_STORAGE[dtype])


# ---------------------------------------------------------------------------
# Libraries and models
# ---------------------------------------------------------------------------

def preload_runtime_deps(kit):
    """A library that needs LLVM's libomp (see prepare.sh) finds it if it is
    already loaded (matched by soname)."""
    lib = os.path.join(kit, "lib")
    if os.path.isdir(lib):
        for f in sorted(os.listdir(lib)):
            ctypes.CDLL(os.path.join(lib, f), mode=ctypes.RTLD_GLOBAL)


class Model:
    def __init__(self, dll, name):
        self.name = name
        self.dll = dll
        sig = getattr(dll, "attnc_%s_signature" % name)
        sig.restype = ctypes.c_char_p
        self.signature = json.loads(sig().decode())
        self.args = self.signature["args"]
        self._err = getattr(dll, "attnc_%s_last_error" % name)
        self._err.restype = ctypes.c_char_p
        self._host = getattr(dll, "attnc_%s" % name)
        self._host.restype = ctypes.c_int32
        self._host.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        try:
            self._cuda = getattr(dll, "attnc_%s_cuda" % name)
            self._cuda.restype = ctypes.c_int32
            self._cuda.argtypes = [ctypes.c_void_p, ctypes.c_int32,
                                   ctypes.c_void_p]
        except AttributeError:
            self._cuda = None

    def last_error(self):
        m = self._err()
        return m.decode() if m else ""

    def shapes(self, dims):
        """The shape of each argument for a binding of the dimensions."""
        out = []
        for a in self.args:
            out.append([dims[s] if isinstance(s, str) else int(s)
                        for s in a["shape"]])
        return out

    @staticmethod
    def _array(descs):
        arr = (attnc_tensor * max(len(descs), 1))()
        for i, d in enumerate(descs):
            arr[i] = d
        return arr

    def call_host(self, descs):
        return self._host(ctypes.cast(self._array(descs), ctypes.c_void_p),
                          len(descs))

    def call_cuda(self, descs, stream):
        return self._cuda(ctypes.cast(self._array(descs), ctypes.c_void_p),
                          len(descs), stream)


class Library:
    def __init__(self, path):
        self.path = path
        self.dll = ctypes.CDLL(path)
        self._models = {}

    def model(self, name):
        if name not in self._models:
            self._models[name] = Model(self.dll, name)
        return self._models[name]


# ---------------------------------------------------------------------------
# The float64 references (shared/TAXONOMY.md, docs/language.md)
# ---------------------------------------------------------------------------

def score(kind, q, K, P, head=None):
    """e[i, l] = score(q_i, k_l): q [nq, dq], K [nk, dk]."""
    def p(name):
        w = P[name]
        return w[head] if head is not None and w.ndim == 3 else w
    if kind == "dot":
        return q @ K.T
    if kind == "scaled_dot":
        return q @ K.T / math.sqrt(K.shape[-1])
    if kind == "general":                    # k_l^T W q_i
        return (q @ p("W").T) @ K.T
    if kind == "additive":                   # w^T tanh(W1 q + W2 k + b)
        t = np.tanh((q @ P["W1"].T)[:, None, :] + (K @ P["W2"].T)[None, :, :]
                    + P["bw"])
        return t @ P["w"]
    if kind == "cosine":                     # 0 where a norm is 0
        nq = np.linalg.norm(q, axis=1)[:, None]
        nk = np.linalg.norm(K, axis=1)[None, :]
        den = nq * nk
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, (q @ K.T) / np.where(den > 0, den, 1), 0.0)
    raise ValueError(kind)


def visible(nq, nk, causal=False, length=None, single=False):
    """Causal: l <= i + (n_k - n_q) (a single query sees all keys); lengths:
    l < clamp(L, 0, n_k)."""
    vis = np.ones((nq, nk), dtype=bool)
    ell = np.arange(nk)[None, :]
    if causal and not single:
        i = np.arange(nq)[:, None] + (nk - nq)
        vis &= ell <= i
    if length is not None:
        vis &= ell < min(max(int(length), 0), nk)
    return vis


def attend(E, vis, V):
    """softmax over the visible keys; a query that sees none: c = 0, a = 0,
    lse = -inf. Returns (c [nq, dv], a [nq, nk], lse [nq])."""
    nq = E.shape[0]
    seen = vis.any(axis=1)
    Em = np.where(vis, E, -np.inf)
    m = np.max(Em, axis=1, initial=-np.inf)
    m = np.where(seen, m, 0.0)
    Pm = np.where(vis, np.exp(np.where(vis, E, 0.0) - m[:, None]), 0.0)
    s = Pm.sum(axis=1)
    s1 = np.where(seen, s, 1.0)
    A = np.where(seen[:, None], Pm / s1[:, None], 0.0)
    C = A @ V if V.shape[0] else np.zeros((nq, V.shape[1]))
    lse = np.where(seen, m + np.log(s1), -np.inf)
    return C, A, lse


def ref_step(kind, causal, lengths):
    """Q [b, n_q, d_q], K [b, n_k, d], V [b, n_k, d_v] -> y = c."""
    def f(I, dims):
        Q, K, V = I["Qin"], I["Kin"], I["Vin"]
        ys = []
        for bi in range(Q.shape[0]):
            E = score(kind, Q[bi], K[bi], I)
            vis = visible(Q.shape[1], K.shape[1], causal,
                          I["L"][bi] if lengths else None)
            ys.append(attend(E, vis, V[bi])[0])
        return {"y": np.stack(ys)}
    return f


def ref_weights_lse(I, dims):
    Q, K, V, L = I["Qin"], I["Kin"], I["Vin"], I["L"]
    y, w, z = [], [], []
    for bi in range(Q.shape[0]):
        E = score("scaled_dot", Q[bi], K[bi], I)
        c, a, lse = attend(E, visible(Q.shape[1], K.shape[1], True, L[bi]), V[bi])
        y.append(c); w.append(a); z.append(lse)
    return {"y": np.stack(y), "w": np.stack(w), "z": np.stack(z)}


def ref_additive_single(I, dims):
    K, s = I["Kin"], I["s"]
    y, w = [], []
    for bi in range(K.shape[0]):
        E = score("additive", s[bi][None, :], K[bi], I)
        c, a, _ = attend(E, visible(1, K.shape[1], single=True), K[bi])
        y.append(c[0]); w.append(a[0])
    return {"y": np.stack(y), "weights": np.stack(w)}


def multihead(I, kind, causal, lengths):
    """Per head j: Q_j = X Wq[j]^T, K_j = X Wk[j]^T, V_j = X Wv[j]^T;
    concat(c) [b, n, h d_k] heads side by side; weights [b, h, n, n]."""
    X = I["X"]
    h = I["Wq"].shape[0]
    C, A, Z = [], [], []
    for bi in range(X.shape[0]):
        cs, as_, zs = [], [], []
        for j in range(h):
            Qj, Kj, Vj = X[bi] @ I["Wq"][j].T, X[bi] @ I["Wk"][j].T, X[bi] @ I["Wv"][j].T
            E = score(kind, Qj, Kj, I, head=j)
            vis = visible(X.shape[1], X.shape[1], causal,
                          I["L"][bi] if lengths else None)
            c, a, z = attend(E, vis, Vj)
            cs.append(c); as_.append(a); zs.append(z)
        C.append(np.concatenate(cs, axis=-1)); A.append(np.stack(as_))
        Z.append(np.stack(zs))
    return np.stack(C), np.stack(A), np.stack(Z)


def ref_mha(I, dims):
    c, a, _ = multihead(I, "scaled_dot", True, False)
    return {"Y": c @ I["Wo"].T, "A": a}


def ref_general_multihead(I, dims):
    c, a, z = multihead(I, "general", True, True)
    return {"y": c, "w": a, "z": z}


def ref_heads_causal(I, dims):
    """Q/K/V [b, h, n, d]: each (batch entry, head) one attention."""
    Q, K, V = I["Qin"], I["Kin"], I["Vin"]
    O = np.zeros(Q.shape[:3] + (V.shape[-1],))
    for bi in range(Q.shape[0]):
        for j in range(Q.shape[1]):
            E = score("scaled_dot", Q[bi, j], K[bi, j], I)
            O[bi, j] = attend(E, visible(Q.shape[2], K.shape[2], True), V[bi, j])[0]
    return {"O": O}


def ref_sdpa_bf16(I, dims):
    Q, K, V = I["Qin"], I["Kin"], I["Vin"]
    y, w = [], []
    for bi in range(Q.shape[0]):
        E = score("scaled_dot", Q[bi], K[bi], I)
        c, a, _ = attend(E, visible(Q.shape[1], K.shape[1], True), V[bi])
        y.append(c); w.append(a)
    return {"y": np.stack(y), "w": np.stack(w)}


def ref_sdpa_f16(I, dims):
    y = ref_step("scaled_dot", False, True)(I, dims)["y"]
    return {"y": y, "y32": y}


NUMERICS = {}
for _kind in ("scaled_dot", "dot", "general", "additive", "cosine"):
    NUMERICS[_kind] = ref_step(_kind, False, False)
    NUMERICS[_kind + "_causal"] = ref_step(_kind, True, False)
    NUMERICS[_kind + "_lengths"] = ref_step(_kind, False, True)
NUMERICS.update({
    "weights_lse": ref_weights_lse,
    "additive_single": ref_additive_single,
    "mha": ref_mha,
    "general_multihead": ref_general_multihead,
    "sdpa_heads_causal": ref_heads_causal,
    "sdpa_bf16": ref_sdpa_bf16,
    "sdpa_f16": ref_sdpa_f16,
    "general_bf16": ref_step("general", False, False),
})


def cases_for(model, quick):
    """Bindings of the dynamic dimensions: n = 1, 7, 64, 131, batch 1-3."""
    names = set()
    for a in model.args:
        names.update(s for s in a["shape"] if isinstance(s, str))
    if {"n_q", "n_k"} <= names:
        sizes = [(1, 1, 1), (2, 7, 131), (3, 64, 64), (1, 131, 7), (2, 131, 131),
                 (3, 7, 64), (2, 7, 0)]
        if quick:
            sizes = [(1, 1, 1), (2, 7, 131), (3, 64, 64)]
        return [{"b": b, "n_q": nq, "n_k": nk} for b, nq, nk in sizes]
    if "n_k" in names:                       # one query per batch entry
        sizes = [(1, 1), (2, 7), (3, 64), (2, 131)]
        return [{"b": b, "n_k": nk} for b, nk in sizes[:2 if quick else 4]]
    if "h" in names:                         # [b, h, n, d] groups
        sizes = [(1, 1, 1), (2, 3, 7), (1, 2, 64), (2, 1, 131)]
        return [{"b": b, "h": h, "n": n} for b, h, n in sizes[:2 if quick else 4]]
    sizes = [(1, 1), (2, 7), (3, 64), (1, 131)]
    return [{"b": b, "n": n} for b, n in sizes[:2 if quick else 4]]


def make_inputs(model, dims, rng, case_index):
    """Random inputs and params (numpy storage) and the float64 values the
    model sees. Lengths cover 0, n_k, one above n_k (clamped) and random."""
    shapes = model.shapes(dims)
    store, vals = {}, {}
    for a, shape in zip(model.args, shapes):
        if a["role"] == "output":
            continue
        dt = DTYPE_CODES[a["dtype"]]
        if dt == I32:
            nk = dims.get("n_k", dims.get("n", 0))
            choices = [0, nk, nk + 3, rng.integers(0, nk + 1), -2, 1]
            x = np.array([choices[(case_index + i) % len(choices)]
                          for i in range(int(np.prod(shape)))]).reshape(shape)
        else:
            x = rng.standard_normal(shape)
            if a["role"] == "param" and len(shape) >= 2:
                x = x / math.sqrt(shape[-1])
        store[a["name"]], vals[a["name"]] = to_storage(x, dt)
    return store, vals


def compare(got, ref, dtype):
    """(ok, max error, worst index description)."""
    u = ROUNDING.get(dtype, 0.0)
    if got.shape != ref.shape:
        return False, float("inf"), "shape %s vs %s" % (got.shape, ref.shape)
    if got.size == 0:
        return True, 0.0, ""
    inf = np.isinf(ref)
    fin = ~inf
    bad_inf = inf & (got != ref)
    with np.errstate(invalid="ignore"):
        err = np.where(fin, np.abs(got - ref), 0.0)
    err = np.where(np.isnan(got), np.inf, err)
    tol = ATOL + (RTOL + u) * np.abs(np.where(fin, ref, 0.0))
    bad = (err > tol) | bad_inf
    maxerr = float(np.max(np.where(fin, err, 0.0)))
    if bad.any():
        idx = np.unravel_index(np.argmax(bad), bad.shape)
        return False, maxerr, "at %s: got %r, expected %r (tol %.3g)" % (
            tuple(int(i) for i in idx), float(got[idx]), float(ref[idx]),
            float(tol[idx]))
    return True, maxerr, ""


# ---------------------------------------------------------------------------
# Entry points: numpy host arrays, torch tensors
# ---------------------------------------------------------------------------

def run_host(model, dims, store):
    """attnc_M with numpy host arrays. Returns (rc, {output: float64})."""
    shapes = model.shapes(dims)
    descs, keep, outs = [], [], {}
    for a, shape in zip(model.args, shapes):
        dt = DTYPE_CODES[a["dtype"]]
        arr = store[a["name"]] if a["role"] != "output" else nan_fill(shape, dt)
        keep.append(arr)
        if a["role"] == "output":
            outs[a["name"]] = (arr, dt)
        descs.append(descriptor(arr.ctypes.data if arr.size else 0, dt, shape))
    rc = model.call_host(descs)
    return rc, {k: from_storage(v, dt) for k, (v, dt) in outs.items()}


def torch_tensor(torch, arr, device):
    """numpy storage -> torch tensor of the same bytes (bf16 bits as int16)."""
    if arr.dtype == np.uint16:
        arr = arr.view(np.int16)
    return torch.from_numpy(np.ascontiguousarray(arr)).to(device)


def torch_back(t, np_dtype):
    a = t.cpu().numpy()
    return a.view(np_dtype) if a.dtype != np_dtype else a


def run_torch(model, dims, store, torch, device, stream=None):
    """attnc_M_cuda with torch CUDA tensors (device="cuda"), or attnc_M with
    torch CPU tensors (device="cpu": the same plumbing, no GPU)."""
    shapes = model.shapes(dims)
    descs, keep, outs = [], [], {}
    for a, shape in zip(model.args, shapes):
        dt = DTYPE_CODES[a["dtype"]]
        src = store[a["name"]] if a["role"] != "output" else nan_fill(shape, dt)
        t = torch_tensor(torch, src, device)
        keep.append(t)
        if a["role"] == "output":
            outs[a["name"]] = (t, src.dtype, dt)
        descs.append(descriptor(t.data_ptr() if t.numel() else 0, dt, shape))
    if stream is None and device == "cpu":
        rc = model.call_host(descs)
    else:
        torch.cuda.synchronize()    # the copies above, before another stream
        rc = model.call_cuda(descs, stream)
    return rc, {k: from_storage(torch_back(t, npd), dt)
                for k, (t, npd, dt) in outs.items()}


# ---------------------------------------------------------------------------
# Numerics
# ---------------------------------------------------------------------------

def check_numerics(lib, entries, quick, log, seed=1234, progress=None):
    """entries: list of (label, runner(model, dims, store) -> (rc, outs)).
    Returns a list of result rows; progress(rows) after each model."""
    rows = []
    rng = np.random.default_rng(seed)
    for name, ref in NUMERICS.items():
        try:
            model = lib.model(name)
        except AttributeError:
            rows.append({"model": name, "entry": "-", "dims": {}, "ok": False,
                         "detail": "not in %s" % lib.path})
            log("FAIL %s: not in the library" % name)
            continue
        for ci, dims in enumerate(cases_for(model, quick)):
            store, vals = make_inputs(model, dims, rng, ci)
            try:
                expected = ref(vals, dims)
            except Exception:
                rows.append({"model": name, "entry": "reference", "dims": dims,
                             "ok": False, "detail": traceback.format_exc()})
                log("FAIL %s %s: the reference raised\n%s" %
                    (name, dims, traceback.format_exc()))
                continue
            for label, runner in entries:
                row = {"model": name, "entry": label, "dims": dims}
                t0 = time.time()
                try:
                    rc, outs = runner(model, dims, store)
                except Exception:
                    row.update(ok=False, detail=traceback.format_exc())
                    rows.append(row)
                    log("FAIL %s %s %s: %s" % (name, label, dims, row["detail"]))
                    continue
                row["seconds"] = round(time.time() - t0, 4)
                if rc != 0:
                    row.update(ok=False, rc=rc,
                               detail="rc %d: %s" % (rc, model.last_error()))
                else:
                    ok, errs, details = True, {}, []
                    for a in model.args:
                        if a["role"] != "output":
                            continue
                        o = a["name"]
                        good, maxerr, why = compare(
                            outs[o], expected[o], DTYPE_CODES[a["dtype"]])
                        errs[o] = maxerr
                        if not good:
                            ok = False
                            details.append("%s %s" % (o, why))
                    row.update(ok=ok, max_abs_err=errs, detail="; ".join(details))
                rows.append(row)
                log("%s %-20s %-12s %-36s %s" % (
                    "ok  " if row["ok"] else "FAIL", name, label,
                    json.dumps(dims), row.get("detail", "") or
                    "max err " + ", ".join("%s %.2g" % kv for kv in
                                           row.get("max_abs_err", {}).items())))
        if progress:
            progress(rows)
    return rows


def error_path_checks(lib, log, torch=None, cuda=False):
    """A wrong dtype: rc 2 and its message, through attnc_M (and attnc_M_cuda
    with device tensors); a host pointer to attnc_M_cuda: rc 10."""
    rows = []
    model = lib.model("scaled_dot")
    dims = {"b": 2, "n_q": 5, "n_k": 6}
    store, _ = make_inputs(model, dims, np.random.default_rng(7), 0)
    shapes = model.shapes(dims)

    def host_descs(bad_dtype=None):
        descs, keep = [], []
        for a, shape in zip(model.args, shapes):
            dt = DTYPE_CODES[a["dtype"]]
            arr = store[a["name"]] if a["role"] != "output" else nan_fill(shape, dt)
            keep.append(arr)
            if bad_dtype is not None and a["name"] == "Qin":
                dt = bad_dtype
            descs.append(descriptor(arr.ctypes.data, dt, shape))
        return descs, keep

    def row(what, rc, msg, want_rc, want_text):
        msg = msg if rc != 0 else ""     # last_error() is kept after success
        ok = rc == want_rc and want_text in msg
        rows.append({"check": what, "rc": rc, "message": msg, "ok": ok,
                     "expected": "rc %d, message containing %r" % (want_rc, want_text)})
        log("%s error path: %s: rc %d: %s" % ("ok  " if ok else "FAIL", what, rc, msg))

    want = "argument 'Qin' (#0): dtype is f16 but must be f32"
    descs, keep = host_descs(F16)
    row("attnc_M, Qin f16 instead of f32", model.call_host(descs),
        model.last_error(), ERR_TYPE, want)
    if model._cuda is not None and (cuda or torch is None):
        # No tensor is touched before the argument check: host pointers do.
        descs, keep = host_descs(F16)
        stream = torch.cuda.current_stream().cuda_stream if cuda else None
        row("attnc_M_cuda, Qin f16 instead of f32",
            model.call_cuda(descs, stream), model.last_error(), ERR_TYPE, want)
        descs, keep = host_descs()
        row("attnc_M_cuda, host pointers", model.call_cuda(descs, stream),
            model.last_error(), ERR_DEVICE_POINTER, "'Qin'")
    if cuda:
        # The right call still works after the refused ones.
        rc, _ = run_torch(model, dims, store, torch, DEVICE,
                          torch.cuda.current_stream().cuda_stream)
        row("attnc_M_cuda after the errors", rc, model.last_error(), 0, "")
    return rows


# ---------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------

def flops(b, h, n, d, causal):
    return (2 * b * h * n * (n + 1) * d) if causal else (4 * b * h * n * n * d)


def time_best(torch, fn, reps, cap_s, cuda=True):
    """Best time (s) of reps calls of fn, each timed with CUDA events on the
    current stream (cuda=False: perf_counter, for the self-test); stops
    early when the total passes cap_s."""
    best, total = float("inf"), 0.0
    for _ in range(reps):
        if cuda:
            stream = torch.cuda.current_stream()
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record(stream)
            fn()
            end.record(stream)
            end.synchronize()
            t = start.elapsed_time(end) / 1e3
        else:
            t0 = time.perf_counter()
            fn()
            t = time.perf_counter() - t0
        best = min(best, t)
        total += t
        if total > cap_s:
            break
    return best


def benchmark(lib, torch, args, log, cuda=True, progress=None):
    """cuda=False (the self-test): the same code on CPU tensors through
    attnc_M, timed with perf_counter."""
    F = torch.nn.functional
    device = DEVICE if cuda else "cpu"
    rows = []
    ns = [1024] if args.quick else [1024, 4096]
    if args.full:
        ns.append(16384)
    if args.bench_n:
        ns = [int(x) for x in args.bench_n.split(",")]
    ds = [64] if args.quick else [64, 128]
    reps = 3 if args.quick else 10
    stream = torch.cuda.current_stream().cuda_stream if cuda else None

    def call(model, descs):
        return model.call_cuda(descs, stream) if cuda else model.call_host(descs)

    def sync():
        if cuda:
            torch.cuda.synchronize()
    t_begin = time.time()
    # Predicting attnc's time, so that a shape beyond --cap is never started
    # (a kernel cannot be interrupted). The naive kernels run one thread per
    # block of 8 queries: the time goes as the keys each thread visits (n d,
    # half with causal) times the waves of blocks (b h n / 8 blocks, about
    # 32 resident per SM), not as the FLOPs. measured: name -> (seconds,
    # cost) of the last shape run; a model not run yet is predicted from the
    # slowest of the others.
    sms = 132
    if cuda:
        try:
            sms = torch.cuda.get_device_properties(0).multi_processor_count
        except Exception:
            pass

    def cost(b, h, n, d, causal):
        waves = math.ceil(b * h * math.ceil(n / 8) / (32.0 * sms))
        return n * d * (0.5 if causal else 1.0) * max(1, waves)

    measured = {}

    def predict(name, c):
        if name in measured:
            t, c0 = measured[name]
            return t * c / c0
        return max((t * c / c0 for t, c0 in measured.values()), default=0.0)

    b, h = 1, args.heads
    for causal in (False, True):
        for d in ds:
            for n in ns:
                fl = flops(b, h, n, d, causal)
                row = {"b": b, "h": h, "n": n, "d": d, "causal": causal,
                       "gflop": fl / 1e9}
                gen = torch.Generator(device=device).manual_seed(n + d)
                q, k, v = (torch.randn(b, h, n, d, device=device, generator=gen)
                           for _ in range(3))
                # torch: fp32, bf16, fp16
                for label, dt in (("torch_fp32", torch.float32),
                                  ("torch_bf16", torch.bfloat16),
                                  ("torch_fp16", torch.float16)):
                    qq, kk, vv = (x.to(dt) for x in (q, k, v))
                    fn = lambda: F.scaled_dot_product_attention(
                        qq, kk, vv, is_causal=causal)
                    for _ in range(2):
                        fn()
                    sync()
                    t = time_best(torch, fn, reps * 2, 10.0, cuda)
                    row[label + "_s"] = t
                    row[label + "_tflops"] = fl / t / 1e12
                ref = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                # attnc
                name = "sdpa_d%d%s" % (d, "_causal" if causal else "")
                try:
                    model = lib.model(name)
                except AttributeError:
                    row["attnc"] = "model %s not in %s" % (name, lib.path)
                    rows.append(row)
                    continue
                c = cost(b, h, n, d, causal)
                predicted = predict(name, c)
                elapsed = time.time() - t_begin
                if predicted > args.cap:
                    row["attnc"] = "skipped: predicted %.1f s > cap %.0f s" % (
                        predicted, args.cap)
                elif elapsed + 3 * predicted > args.bench_budget:
                    row["attnc"] = ("skipped: the benchmark's budget (%.0f s) "
                                    "would be exceeded" % args.bench_budget)
                else:
                    out = torch.full_like(q, float("nan"))
                    descs = [descriptor(x.data_ptr(), F32, [b, h, n, d])
                             for x in (q, k, v, out)]
                    t0 = time.time()
                    rc = call(model, descs)
                    first = time.time() - t0
                    row["attnc_first_call_s"] = first
                    row["attnc_predicted_s"] = predicted
                    measured[name] = (first, c)
                    if rc != 0:
                        row["attnc"] = "rc %d: %s" % (rc, model.last_error())
                        row["ok"] = False
                    else:
                        err = (out - ref).abs().max().item()
                        row["attnc_max_abs_err_vs_torch_fp32"] = err
                        row["ok"] = bool(err <= 1e-3 and not math.isnan(err))
                        if first > args.cap:
                            t = first
                            row["attnc"] = "first call %.1f s > cap: timed once" % first
                        else:
                            t = time_best(torch, lambda: call(model, descs),
                                          reps, max(args.cap, 3 * first), cuda)
                            measured[name] = (max(t, first / 2), c)
                        row["attnc_s"] = t
                        row["attnc_tflops"] = fl / t / 1e12
                        row["attnc_vs_torch_fp32"] = row["torch_fp32_s"] / t
                        row["attnc_vs_torch_bf16"] = row["torch_bf16_s"] / t
                rows.append(row)
                log("bench %s" % json.dumps(row))
                if progress:
                    progress(rows)
                del q, k, v
                if cuda:
                    torch.cuda.empty_cache()
    return rows


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def markdown(summary):
    L = ["# attnc device check", ""]
    env = summary.get("environment", {})
    for k in sorted(env):
        L.append("- %s: %s" % (k, env[k]))
    L.append("")
    num = summary.get("numerics", [])
    if num:
        nok = sum(r["ok"] for r in num)
        L += ["## Numerics: %d of %d checks passed" % (nok, len(num)), "",
              "tolerance |got - ref| <= 1e-4 + (1e-4 + u)|ref|, u = 0 (f32), "
              "2^-8 (bf16), 2^-10 (f16); float64 numpy reference", ""]
        by = {}
        for r in num:
            by.setdefault((r["model"], r["entry"]), []).append(r)
        L += ["| model | entry | cases | passed | max abs err | failure |",
              "|---|---|---|---|---|---|"]
        for (m, e), rs in by.items():
            errs = [v for r in rs for v in r.get("max_abs_err", {}).values()]
            fails = [r for r in rs if not r["ok"]]
            L.append("| %s | %s | %d | %d | %s | %s |" % (
                m, e, len(rs), len(rs) - len(fails),
                "%.2g" % max(errs) if errs else "-",
                (json.dumps(fails[0]["dims"]) + " " +
                 fails[0].get("detail", "")).replace("|", "/").replace("\n", " ")[:300]
                if fails else ""))
        L.append("")
    errs = summary.get("error_paths", [])
    if errs:
        L += ["## Error paths", "", "| check | rc | ok | message |", "|---|---|---|---|"]
        for r in errs:
            L.append("| %s | %d | %s | %s |" % (r["check"], r["rc"],
                                                "yes" if r["ok"] else "NO",
                                                r["message"].replace("|", "/")))
        L.append("")
    bench = summary.get("benchmark", [])
    if bench:
        L += ["## Benchmark: TFLOP/s (best of N), b = %d, h = %d" %
              (bench[0]["b"], bench[0]["h"]), "",
              "| n | d | mask | attnc fp32 | torch fp32 | torch bf16 | torch fp16 "
              "| attnc / torch fp32 | attnc / torch bf16 | attnc max err | note |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        f = lambda r, k, fmt: (fmt % r[k]) if k in r else "-"
        for r in bench:
            L.append("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["n"], r["d"], "causal" if r["causal"] else "full",
                f(r, "attnc_tflops", "%.4f"), f(r, "torch_fp32_tflops", "%.2f"),
                f(r, "torch_bf16_tflops", "%.2f"), f(r, "torch_fp16_tflops", "%.2f"),
                f(r, "attnc_vs_torch_fp32", "%.2e"), f(r, "attnc_vs_torch_bf16", "%.2e"),
                f(r, "attnc_max_abs_err_vs_torch_fp32", "%.1e"), r.get("attnc", "")))
        L.append("")
    if "passed" not in summary:
        L.append("Result: **INCOMPLETE** (a partial summary: the run did not "
                 "finish; see device_check.log)")
    else:
        L.append("Result: **%s**" % ("PASS" if summary["passed"] else "FAIL"))
    return "\n".join(L) + "\n"


def write_summary(summary, final=True):
    """final=False: a partial summary (after a phase), written to $OUT only,
    so that a run killed later still leaves its results."""
    md = markdown(summary)
    if final:
        print("\n" + md)
    out = os.environ.get("OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "device_check.json"), "w") as f:
            json.dump(summary, f, indent=1, default=str)
        with open(os.path.join(out, "device_check.md"), "w") as f:
            f.write(md)
        if final:
            print("wrote %s/device_check.{json,md}" % out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kit", default=KIT, help="the libraries (bench/gpu/out)")
    ap.add_argument("--quick", action="store_true", help="about a minute")
    ap.add_argument("--full", action="store_true", help="also n = 16384")
    ap.add_argument("--cap", type=float, default=5.0,
                    help="seconds: skip an attnc shape predicted to take longer")
    ap.add_argument("--bench-budget", type=float, default=150.0,
                    help="seconds for the whole benchmark (attnc measurements "
                         "that would pass it are skipped)")
    ap.add_argument("--watchdog", type=float, default=330.0,
                    help="seconds: exit (status 1, stacks on stderr) when the "
                         "whole run takes longer; 0: none")
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--bench-n", help="comma-separated sequence lengths "
                    "(default 1024,4096; --quick 1024; --full adds 16384)")
    ap.add_argument("--skip-numerics", action="store_true")
    ap.add_argument("--skip-bench", action="store_true")
    ap.add_argument("--cpu-selftest", action="store_true",
                    help="no GPU: the references against out/cpu and out/sched "
                         "(and torch CPU tensors through attnc_M when torch is "
                         "there); the CUDA libraries' argument checks with "
                         "$ATTNC_LIBCUDA (e.g. attnc's fake driver) if set")
    args = ap.parse_args()
    if args.quick:
        args.bench_budget = min(args.bench_budget, 40.0)

    def log(msg):
        print(msg, flush=True)

    summary = {"environment": {}, "numerics": [], "error_paths": [],
               "benchmark": []}
    env = summary["environment"]
    env["python"] = sys.version.split()[0]
    env["numpy"] = np.__version__
    man = os.path.join(args.kit, "manifest.json")
    if os.path.exists(man):
        m = json.load(open(man))
        env["kit"] = "attnc %s, commit %s%s, built %s, targets %s" % (
            m.get("attnc_version", "?").replace("\n", " "), m.get("commit", "?")[:12],
            " (dirty)" if m.get("dirty") else "", m.get("date", "?"),
            m.get("targets", "?"))
    try:
        import torch
        env["torch"] = torch.__version__
    except ImportError:
        torch = None
        env["torch"] = "not installed"

    t_start = time.time()
    faulthandler.enable()     # a crash in a library: the Python stack in the log
    if args.watchdog > 0:
        # A hung kernel cannot be interrupted from Python: dump the stacks
        # and exit (the partial summary in $OUT stays) before the device
        # tool's own limit.
        faulthandler.dump_traceback_later(args.watchdog, exit=True)
    try:
        preload_runtime_deps(args.kit)
    except OSError as e:
        log("cannot preload %s/lib: %s" % (args.kit, e))

    if args.cpu_selftest:
        for variant in ("cpu", "sched"):
            path = os.path.join(args.kit, variant, "libnumerics.so")
            if not os.path.exists(path):
                log("missing %s: run bench/gpu/prepare.sh" % path)
                return 2
            lib = Library(path)
            entries = [("%s:host" % variant,
                        lambda m, d, s: run_host(m, d, s))]
            if torch is not None:
                entries.append(("%s:torch-cpu" % variant,
                                lambda m, d, s: run_torch(m, d, s, torch, "cpu")))
            summary["numerics"] += check_numerics(lib, entries, args.quick, log)
            summary["error_paths"] += error_path_checks(lib, log, None)
        cuda_lib = os.path.join(args.kit, "libnumerics.so")
        if os.environ.get("ATTNC_LIBCUDA") and os.path.exists(cuda_lib):
            # With attnc's fake driver the argument checks (2) and the
            # device-pointer check (10) run; kernels cannot.
            summary["error_paths"] += error_path_checks(Library(cuda_lib), log, None)
        bench_lib = os.path.join(args.kit, "cpu", "libbench.so")
        if torch is not None and not args.skip_bench and os.path.exists(bench_lib):
            # The benchmark's code on CPU tensors (small n: --bench-n).
            if not args.bench_n:
                args.bench_n = "64,256"
            try:
                summary["benchmark"] = benchmark(Library(bench_lib), torch,
                                                 args, log, cuda=False)
            except Exception:
                log("benchmark raised:\n" + traceback.format_exc())
                summary["benchmark_error"] = traceback.format_exc()
    else:
        if torch is None or not torch.cuda.is_available():
            log("no CUDA device through torch (use --cpu-selftest without one)")
            return 2
        env["device"] = torch.cuda.get_device_name(0)
        env["capability"] = "sm_%d%d" % torch.cuda.get_device_capability(0)
        try:
            be = torch.backends.cuda
            env["torch_sdpa"] = (
                "flash %s, mem_efficient %s, math %s; matmul.allow_tf32 %s" % (
                    be.flash_sdp_enabled(), be.mem_efficient_sdp_enabled(),
                    be.math_sdp_enabled(), be.matmul.allow_tf32))
        except Exception as e:          # an older or newer torch
            env["torch_sdpa"] = "unknown (%s)" % e
        paths = {n: os.path.join(args.kit, "lib%s.so" % n)
                 for n in ("numerics", "bench")}
        for p in paths.values():
            if not os.path.exists(p):
                log("missing %s: run bench/gpu/prepare.sh and carry bench/gpu/out" % p)
                return 2
        torch.cuda.init()
        torch.zeros(1, device=DEVICE)    # torch's context, current on this thread
        if not args.skip_numerics:
            lib = Library(paths["numerics"])
            stream = torch.cuda.current_stream().cuda_stream
            side = torch.cuda.Stream()          # not the default stream
            env["streams"] = "current %#x, side %#x" % (stream, side.cuda_stream)
            entries = [
                ("attnc_M", lambda m, d, s: run_host(m, d, s)),
                ("attnc_M_cuda", lambda m, d, s: run_torch(m, d, s, torch,
                                                           DEVICE, stream)),
                ("cuda@side", lambda m, d, s: run_torch(m, d, s, torch, DEVICE,
                                                        side.cuda_stream)),
            ]
            def numerics_progress(rows):
                summary["numerics"] = rows
                write_summary(summary, final=False)
            summary["numerics"] = check_numerics(lib, entries, args.quick, log,
                                                 progress=numerics_progress)
            summary["error_paths"] = error_path_checks(lib, log, torch, cuda=True)
            env["numerics_seconds"] = round(time.time() - t_start, 1)
            write_summary(summary, final=False)
        if not args.skip_bench:
            t0 = time.time()
            try:
                def progress(rows):
                    summary["benchmark"] = rows
                    write_summary(summary, final=False)
                summary["benchmark"] = benchmark(Library(paths["bench"]), torch,
                                                 args, log, progress=progress)
            except Exception:
                log("benchmark raised:\n" + traceback.format_exc())
                summary["benchmark_error"] = traceback.format_exc()
            env["benchmark_seconds"] = round(time.time() - t0, 1)

    env["total_seconds"] = round(time.time() - t_start, 1)
    passed = (all(r["ok"] for r in summary["numerics"]) and
              all(r["ok"] for r in summary["error_paths"]) and
              all(r.get("ok", True) for r in summary["benchmark"]) and
              "benchmark_error" not in summary)
    summary["passed"] = passed
    write_summary(summary)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
