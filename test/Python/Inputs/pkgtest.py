"""Shared by the tests of the Python package: a small model, random data,
a pure-Python reference of it, and a soft checker (see conftest.py)."""

import math
import random
import sys

SELFATTN = """
model selfattn {
  dims  n, d = 6, d_k = 4
  batch b
  input X : f32[b, n, d]
  param Wq, Wk : f32[d_k, d]
  query   Q = Wq X
  keys    K = Wk X
  values  V = X
  score   e = scaled_dot(Q, K)
  mask    causal
  align   a = softmax(e)
  context c = sum(a * V)
  output  y = c
  output  A = a
}
"""
D, DK = 6, 4


def rand(shape, seed):
    rng = random.Random(seed)
    n = 1
    for s in shape:
        n *= s
    return [rng.uniform(-1, 1) for _ in range(n)]


def f32(values):
    import array
    return list(array.array("f", values))


def reference(X, Wq, Wk, b, n):
    """y [b, n, D] and A [b, n, n] (flat lists) of selfattn."""
    def row(M, r, width):
        return M[r * width:(r + 1) * width]
    y, A = [], []
    for bi in range(b):
        xs = [row(X, bi * n + i, D) for i in range(n)]
        q = [[sum(w * x for w, x in zip(row(Wq, k, D), xi)) for k in range(DK)]
             for xi in xs]
        k_ = [[sum(w * x for w, x in zip(row(Wk, k, D), xi)) for k in range(DK)]
              for xi in xs]
        for i in range(n):
            e = [sum(a * c for a, c in zip(q[i], k_[l])) / math.sqrt(DK)
                 for l in range(i + 1)]
            m = max(e)
            p = [math.exp(v - m) for v in e]
            s = sum(p)
            a = [v / s for v in p] + [0.0] * (n - i - 1)
            A += a
            y += [sum(a[l] * xs[l][j] for l in range(n)) for j in range(D)]
    return y, A


class Checker:
    """Soft checks: each failed one is recorded (and printed), so that one
    run shows every failure; the `c` fixture of conftest.py fails the test at
    its end if any check failed."""

    def __init__(self):
        self.messages = []
        self.count = 0

    @property
    def failures(self):
        return len(self.messages)

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.messages.append(what)
            print("FAIL: %s" % what, file=sys.stderr)

    def close(self, got, ref, what, tol=1e-4):
        got, ref = list(got), list(ref)
        bad = [i for i, (g, r) in enumerate(zip(got, ref))
               if not abs(g - r) <= tol + tol * abs(r)]
        self.check(len(got) == len(ref) and not bad,
                   "%s: %d vs %d elements, %d differ%s" % (
                       what, len(got), len(ref), len(bad),
                       " (first at %d: %r vs %r)" % (bad[0], got[bad[0]],
                                                     ref[bad[0]]) if bad else ""))

    def raises(self, exc, fn, what):
        """Calls fn(); checks that it raises exc; returns the exception."""
        self.count += 1
        try:
            fn()
        except exc as e:
            return e
        except Exception as e:  # noqa: BLE001
            self.check(False, "%s: raised %r, expected %s" % (
                what, e, exc.__name__))
            self.count -= 1
            return None
        self.check(False, "%s: did not raise %s" % (what, exc.__name__))
        self.count -= 1
        return None
