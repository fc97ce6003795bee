# REQUIRES: python-pytest, python-numpy
# RUN: env ATTNC_CACHE_DIR=%t.cache %python -m pytest -q -rs -p no:cacheprovider %s
# NumPy arrays in and out: zero-copy inputs and out= arrays, outputs
# allocated as NumPy arrays, dynamic dims from the shapes, the runtime's
# message for float64 data, a wrong size and a transposed (non-contiguous)
# view, attnc.Tensor seen by numpy.asarray without a copy; bf16 (as uint16
# bits) and f16 arguments and outputs.

import numpy as np

import attnc
import pkgtest as P


def test_calls(c, selfattn):
    """NumPy arrays in, outputs allocated or given with out=."""
    m = selfattn.selfattn
    rng = np.random.default_rng(0)
    for b, n in ((2, 7), (1, 33)):
        X = rng.uniform(-1, 1, (b, n, P.D)).astype(np.float32)
        Wq = rng.uniform(-1, 1, (P.DK, P.D)).astype(np.float32)
        Wk = rng.uniform(-1, 1, (P.DK, P.D)).astype(np.float32)
        y, A = m(X, Wq, Wk)
        c.check(isinstance(y, np.ndarray) and y.dtype == np.float32 and
                y.shape == (b, n, P.D) and A.shape == (b, n, n), "numpy outputs")
        ry, rA = P.reference(X.ravel().tolist(), Wq.ravel().tolist(),
                             Wk.ravel().tolist(), b, n)
        c.close(y.ravel().tolist(), ry, "y")
        c.close(A.ravel().tolist(), rA, "A")
        c.check(np.allclose(A.sum(axis=-1), 1, atol=1e-5), "rows of A sum to 1")
        yo = np.full((b, n, P.D), 7, np.float32)
        Ao = np.full((b, n, n), 7, np.float32)
        r = m(X, Wq, Wk, out=(yo, Ao))
        c.check(r.y is yo and r.A is Ao and np.array_equal(yo, y), "out= arrays")


def test_zero_copy(c, selfattn):
    m = selfattn.selfattn
    rng = np.random.default_rng(1)
    Wq = rng.uniform(-1, 1, (P.DK, P.D)).astype(np.float32)
    Wk = rng.uniform(-1, 1, (P.DK, P.D)).astype(np.float32)
    X = rng.uniform(-1, 1, (1, 9, P.D)).astype(np.float32)
    # Zero copy: a view into a bigger array is passed as is (the output lands in
    # the parent's memory).
    big = np.zeros((3, 7, P.D), np.float32)
    X7 = np.ascontiguousarray(X[:, :7])
    m(X7, Wq, Wk, out={"y": big[1:2]})
    c.check(np.array_equal(big[1:2], m(X7, Wq, Wk).y) and not big[0].any(),
            "out= a view into a bigger array")
    # attnc.Tensor through the array interface, without a copy.
    t = attnc.Tensor((2, 3), "f32", range(6))
    v = np.asarray(t)
    v[0, 0] = 42
    c.check(t.flat()[0] == 42.0 and v.dtype == np.float32, "asarray(Tensor) views")


def refused(c, m, what, *args, **kw):
    e = c.raises(attnc.CallError, lambda: m(*args, **kw), what)
    if e is not None:
        print("%s: %s" % (what, e.runtime_message))
        c.check(e.status and e.runtime_message and e.runtime_message in str(e),
                "%s: the runtime's message" % what)
    return e


def test_errors(c, selfattn):
    """The runtime's messages for wrong dtypes, sizes and strides."""
    m = selfattn.selfattn
    rng = np.random.default_rng(2)
    Wq = rng.uniform(-1, 1, (P.DK, P.D)).astype(np.float32)
    Wk = rng.uniform(-1, 1, (P.DK, P.D)).astype(np.float32)
    X = rng.uniform(-1, 1, (2, 5, P.D)).astype(np.float32)
    e = refused(c, m, "float64", X.astype(np.float64), Wq, Wk)
    c.check(e is not None and e.argument == "X", "float64: names X")
    refused(c, m, "a wrong static size", X, Wq[:, :5], Wk)
    e = refused(c, m, "a transposed view", X, Wq, np.ascontiguousarray(Wk.T).T)
    c.check(e is not None and e.argument == "Wk", "strides: names Wk")
    refused(c, m, "a strided output", X, Wq, Wk, out={"A": np.zeros((2, 5, 10), np.float32)[:, :, ::2]})
    e = c.raises(attnc.CallError, lambda: m(X.astype(np.int8), Wq, Wk), "int8")
    c.check(e is not None and "int8" in str(e) and e.status is None, str(e))
    # NumPy names a big-endian float32 "float32" too: refused by its byte
    # order before the name is looked at (the call would read swapped bytes).
    big = X.astype(">f4")
    e = c.raises(attnc.CallError, lambda: m(big, Wq, Wk), "big-endian float32")
    c.check(e is not None and "byte order '>f4'" in str(e) and
            e.argument == "X", "big-endian: %s" % e)
    # The element types are cached per dtype object: the same call with the
    # native dtype after the refused one still runs.
    y, A = m(X, Wq, Wk)
    c.check(y.shape == (2, 5, P.D), "a native float32 after the refusal")


# bf16 and f16: NumPy has no bfloat16, so bf16 travels as its uint16 bits
# (allocated outputs too); f16 is numpy.float16.
LOWP = """
model lowp {
  dims n, d = 8
  input Q : bf16[n, d]
  input X : f16[n, d]
  query q = Q
  keys K = X
  values V = X
  score e = scaled_dot(q, K)
  align a = softmax(e)
  context c = sum(a * V)
  output y : bf16 = c
  output A : f16 = a
}
"""


def to_bf16(x):  # round to nearest even, as bits
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


def test_bf16_f16(c):
    rng = np.random.default_rng(3)
    lowp = attnc.compile(LOWP).lowp
    Qb = to_bf16(rng.uniform(-1, 1, (11, 8)))
    Xh = rng.uniform(-1, 1, (11, 8)).astype(np.float16)
    y, A = lowp(Qb, Xh)
    c.check(y.dtype == np.uint16 and A.dtype == np.float16 and y.shape == (11, 8),
            "bf16 output as uint16 bits, f16 as float16: %s %s" % (y.dtype, A.dtype))
    q, k = from_bf16(Qb).astype(np.float64), Xh.astype(np.float64)
    s = q @ k.T / np.sqrt(8)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    c.close(from_bf16(y).ravel().tolist(), (p @ k).ravel().tolist(), "bf16 y",
            tol=2.0 ** -8)
    c.close(A.astype(np.float64).ravel().tolist(), p.ravel().tolist(), "f16 A",
            tol=2.0 ** -10)
    e = c.raises(attnc.CallError, lambda: lowp(Qb, Xh.astype(np.float32)),
                 "f32 for an f16 input")
    c.check(e is not None and e.argument == "X", "f32 for f16: names X")
