# REQUIRES: python-pytest, python-torch
# RUN: env ATTNC_CACHE_DIR=%t.cache %python -m pytest -q -rs -p no:cacheprovider %s
# PyTorch: CPU tensors in and out (zero-copy, out=), the runtime's message
# for a wrong dtype, and attnc.torch.register: a custom operator with a fake
# implementation, called eagerly, under FakeTensorMode (shapes from the
# signature), and inside a torch.compile'd function (CPU).

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

import attnc
import attnc.torch
import pkgtest as P


@pytest.fixture(scope="module")
def data():
    torch.manual_seed(0)
    b, n = 2, 6
    return (torch.rand(b, n, P.D) * 2 - 1, torch.rand(P.DK, P.D) * 2 - 1,
            torch.rand(P.DK, P.D) * 2 - 1)


def test_tensors(c, selfattn, data):
    """CPU tensors in and out, out=, the runtime's messages."""
    m = selfattn.selfattn
    X, Wq, Wk = data
    b, n = X.shape[0], X.shape[1]
    y, A = m(X, Wq, Wk)
    c.check(isinstance(y, torch.Tensor) and y.dtype == torch.float32 and
            tuple(y.shape) == (b, n, P.D) and tuple(A.shape) == (b, n, n),
            "torch outputs")
    ry, rA = P.reference(X.flatten().tolist(), Wq.flatten().tolist(),
                         Wk.flatten().tolist(), b, n)
    c.close(y.flatten().tolist(), ry, "y")
    c.close(A.flatten().tolist(), rA, "A")
    yo, Ao = torch.empty(b, n, P.D), torch.empty(b, n, n)
    r = m(X, Wq, Wk, out=(yo, Ao))
    c.check(r.y is yo and torch.equal(yo, y), "out= tensors")
    e = c.raises(attnc.CallError, lambda: m(X.double(), Wq, Wk), "float64")
    c.check(e is not None and e.status and e.runtime_message, "runtime message")
    e = c.raises(attnc.CallError, lambda: m(X, Wq, Wk.t().contiguous().t()), "strided")
    c.check(e is not None and e.status and e.argument == "Wk", "strides refused")


def test_custom_op(c, selfattn, data):
    """attnc.torch.register: eager calls and FakeTensorMode."""
    m = selfattn.selfattn
    X, Wq, Wk = data
    y, A = m(X, Wq, Wk)
    op = attnc.torch.register(m)
    c.check(op is torch.ops.attnc.selfattn, "torch.ops.attnc.selfattn")
    c.check(attnc.torch.register(m) is op, "registering again: the same op")
    y2, A2 = op(X, Wq, Wk)
    c.check(torch.allclose(y2, y) and torch.allclose(A2, A), "eager op")
    y3, _ = op(X, Wq, Wk.t().contiguous().t())  # the op makes arguments contiguous
    c.check(torch.allclose(y3, y), "op with a strided argument")
    with FakeTensorMode():
        fy, fA = op(torch.empty(3, 11, P.D), torch.empty(P.DK, P.D),
                    torch.empty(P.DK, P.D))
        c.check(tuple(fy.shape) == (3, 11, P.D) and tuple(fA.shape) == (3, 11, 11),
                "fake shapes %s %s" % (tuple(fy.shape), tuple(fA.shape)))


def test_torch_compile(c, selfattn, data):
    """The op inside a torch.compile'd function (CPU)."""
    op = attnc.torch.register(selfattn.selfattn)
    X, Wq, Wk = data

    def f(x, wq, wk):
        yy, aa = op(torch.relu(x), wq, wk)
        return yy * 2 + aa.sum()

    compiled = torch.compile(f, backend="inductor", fullgraph=True)
    ref = f(X, Wq, Wk)
    got = compiled(X, Wq, Wk)
    c.check(torch.allclose(got, ref, atol=1e-5), "torch.compile with the op")
    X2 = torch.rand(1, 9, P.D)
    c.check(torch.allclose(compiled(X2, Wq, Wk), f(X2, Wq, Wk), atol=1e-5),
            "torch.compile, another shape")
