# REQUIRES: python-numpy
# RUN: env ATTNC_CACHE_DIR=%t.cache %python %s
# NumPy arrays in and out: zero-copy inputs and out= arrays, outputs
# allocated as NumPy arrays, dynamic dims from the shapes, the runtime's
# message for float64 data, a wrong size and a transposed (non-contiguous)
# view, attnc.Tensor seen by numpy.asarray without a copy.

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
import attnc  # noqa: E402
import pkgtest as P  # noqa: E402

c = P.Checker()
m = attnc.compile(P.SELFATTN).selfattn
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


def refused(what, *args, **kw):
    e = c.raises(attnc.CallError, lambda: m(*args, **kw), what)
    if e is not None:
        print("%s: %s" % (what, e.runtime_message))
        c.check(e.status and e.runtime_message and e.runtime_message in str(e),
                "%s: the runtime's message" % what)
    return e


X = rng.uniform(-1, 1, (2, 5, P.D)).astype(np.float32)
e = refused("float64", X.astype(np.float64), Wq, Wk)
c.check(e is not None and e.argument == "X", "float64: names X")
refused("a wrong static size", X, Wq[:, :5], Wk)
e = refused("a transposed view", X, Wq, np.ascontiguousarray(Wk.T).T)
c.check(e is not None and e.argument == "Wk", "strides: names Wk")
refused("a strided output", X, Wq, Wk, out={"A": np.zeros((2, 5, 10), np.float32)[:, :, ::2]})
e = c.raises(attnc.CallError, lambda: m(X.astype(np.int8), Wq, Wk), "int8")
c.check(e is not None and "int8" in str(e) and e.status is None, str(e))
c.finish()
