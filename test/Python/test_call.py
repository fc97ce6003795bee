# REQUIRES: python-pytest
# RUN: env ATTNC_CACHE_DIR=%t.cache %python -m pytest -q -rs -p no:cacheprovider %s
# Calling a compiled model from Python without NumPy: attnc.Tensor, buffers
# (memoryview over array.array), nested lists; outputs allocated from the
# signature (dynamic dims inferred) or given with out=; one namedtuple for
# several outputs; the module's models by attribute and by name; errors in
# the Python call signature (TypeError); the signature in help().

import array
import inspect
import pydoc

import attnc
import pkgtest as P


def test_module(c, selfattn):
    mod = selfattn
    c.check(mod.models == ("selfattn",), "models: %r" % (mod.models,))
    m = mod.selfattn
    c.check(m is mod["selfattn"], "mod.selfattn is mod['selfattn']")
    c.check("selfattn" in dir(mod) and "selfattn" in mod and len(mod) == 1,
            "dir/in/len of the module")
    c.check(isinstance(m, attnc.Model), "a Model")
    c.raises(AttributeError, lambda: mod.nomodel, "unknown model attribute")
    c.raises(KeyError, lambda: mod["nomodel"], "unknown model item")


def test_calls(c, selfattn):
    """Tensors, buffers and nested lists in; outputs allocated or given."""
    m = selfattn.selfattn
    for b, n in ((2, 5), (1, 9), (3, 1)):
        xs, wq, wk = P.rand((b, n, P.D), 1), P.rand((P.DK, P.D), 2), P.rand((P.DK, P.D), 3)
        X = attnc.Tensor((b, n, P.D), "f32", xs)
        Wq = attnc.Tensor((P.DK, P.D), "f32", wq)
        Wk = attnc.Tensor((P.DK, P.D), "f32", wk)
        ry, rA = P.reference(P.f32(xs), P.f32(wq), P.f32(wk), b, n)
        res = m(X, Wq, Wk)
        c.check(type(res).__name__ == "selfattn_outputs" and res._fields == ("y", "A"),
                "a namedtuple (y, A): %r" % (type(res),))
        y, A = res
        c.check(isinstance(y, attnc.Tensor) and y.shape == (b, n, P.D) and
                y.dtype == "f32", "y: %r" % (y,))
        c.check(A.shape == (b, n, n), "A shape %r" % (A.shape,))
        c.close(y.flat(), ry, "y b=%d n=%d" % (b, n))
        c.close(A.flat(), rA, "A b=%d n=%d" % (b, n))

        # By name, and into given outputs (returned as they are).
        yo, Ao = attnc.Tensor((b, n, P.D)), attnc.Tensor((b, n, n))
        r = m(X, Wk=Wk, Wq=Wq, out=(yo, Ao))
        c.check(r.y is yo and r.A is Ao, "out= tuple returned")
        c.close(yo.flat(), ry, "y into out=")
        A2 = attnc.Tensor((b, n, n))
        r = m(X=X, Wq=Wq, Wk=Wk, out={"A": A2})
        c.check(r.A is A2 and r.y.shape == (b, n, P.D), "out= dict, partial")
        c.close(A2.flat(), rA, "A into out= dict")

        # Buffers: a memoryview of an array.array, cast to the shape.
        def mv(values, shape):
            return memoryview(array.array("f", values)).cast("B").cast("f", shape)
        y3, A3 = m(mv(xs, (b, n, P.D)), mv(wq, (P.DK, P.D)), mv(wk, (P.DK, P.D)))
        c.close(y3.flat(), ry, "y from memoryview inputs")
        # Outputs may be writable buffers too.
        yb = array.array("f", [0.0] * (b * n * P.D))
        Ab = array.array("f", [0.0] * (b * n * n))
        m(X, Wq, Wk, out=(memoryview(yb).cast("B").cast("f", (b, n, P.D)),
                          memoryview(Ab).cast("B").cast("f", (b, n, n))))
        c.close(list(yb), ry, "y into an array.array")
        # Nested lists are copied into tensors of the argument's dtype.
        y4, _ = m(X.tolist(), Wq.tolist(), Wk.tolist())
        c.close(y4.flat(), ry, "y from nested lists")


def test_empty(c, selfattn):
    """Empty sizes: n = 0."""
    m = selfattn.selfattn
    Wq = Wk = attnc.Tensor((P.DK, P.D))
    y0, A0 = m(attnc.Tensor((2, 0, P.D)), Wq, Wk)
    c.check(y0.shape == (2, 0, P.D) and A0.shape == (2, 0, 0), "n = 0 shapes")


def test_python_call_errors(c, selfattn):
    """Python-side call errors are TypeErrors."""
    m = selfattn.selfattn
    b, n = 2, 3
    X = attnc.Tensor((b, n, P.D), "f32", P.rand((b, n, P.D), 1))
    Wq = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 2))
    Wk = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 3))
    yo = attnc.Tensor((b, n, P.D))
    e = c.raises(TypeError, lambda: m(X, Wq), "a missing argument")
    c.check(e is not None and "missing 1 argument: Wk" in str(e), "missing: %s" % e)
    e = c.raises(TypeError, lambda: m(X, Wq, Wk, Wk), "too many arguments")
    c.check(e is not None and "takes 3 arguments (X, Wq, Wk)" in str(e), str(e))
    e = c.raises(TypeError, lambda: m(X, Wq, Wk, Wz=Wk), "unknown keyword")
    c.check(e is not None and "'Wz'" in str(e), str(e))
    e = c.raises(TypeError, lambda: m(X, Wq, Wk=Wk, y=Wk), "an output by name")
    c.check(e is not None and "out=" in str(e), str(e))
    e = c.raises(TypeError, lambda: m(X, Wq, Wq=Wq, Wk=Wk), "twice")
    c.check(e is not None and "multiple values" in str(e), str(e))
    e = c.raises(TypeError, lambda: m(X, Wq, Wk, out=(yo,)), "out= too short")
    c.check(e is not None and "1 arrays for 2 outputs" in str(e), str(e))
    e = c.raises(TypeError, lambda: m(X, Wq, Wk, out=yo), "out= single")
    c.raises(TypeError, lambda: m(X, Wq, Wk, out={"B": yo}), "out= unknown name")


def test_signature_and_help(c, selfattn):
    """The signature in docstrings, help() and inspect."""
    mod, m = selfattn, selfattn.selfattn
    sig = m.signature
    c.check([a.name for a in sig.args] == ["X", "Wq", "Wk", "y", "A"], "args")
    c.check(sig.dynamic_dims == ["b", "n"], "dynamic dims %r" % sig.dynamic_dims)
    c.check(str(sig.arg("X").type_str()) == "f32[b, n, 6]", sig.arg("X").type_str())
    doc = m.__doc__
    for want in ("selfattn(X, Wq, Wk) -> (y, A)", "X  : input  f32[b, n, 6]",
                 "Wq : param  f32[4, 6]", "A  : output f32[b, n, n]",
                 "Dynamic dims (inferred from the arguments' shapes): b, n"):
        c.check(want in doc, "docstring lacks %r:\n%s" % (want, doc))
    text = pydoc.render_doc(m, renderer=pydoc.plaintext)
    c.check("selfattn(X, Wq, Wk) -> (y, A)" in text and
            "__call__(self, X: 'f32[b, n, 6]'" in text, "help():\n" + text)
    params = list(inspect.signature(m).parameters)
    c.check(params == ["X", "Wq", "Wk", "out"], "inspect.signature: %r" % params)
    c.check("selfattn" in repr(m) and "selfattn" in repr(mod), repr(m))
    c.check(m.last_error() == "", "no error yet: %r" % m.last_error())


def test_load(c, selfattn):
    """A library loaded directly."""
    mod, m = selfattn, selfattn.selfattn
    b, n = 2, 3
    X = attnc.Tensor((b, n, P.D), "f32", P.rand((b, n, P.D), 1))
    Wq = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 2))
    Wk = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 3))
    lib = attnc.load(mod.path)
    c.check(lib.models == ("selfattn",), "load(): %r" % (lib.models,))
    c.close(lib.selfattn(X, Wq, Wk).y.flat(), m(X, Wq, Wk).y.flat(), "load() call")
