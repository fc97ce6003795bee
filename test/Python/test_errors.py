# REQUIRES: python-pytest
# RUN: env ATTNC_CACHE_DIR=%t.cache %python -m pytest -q -rs -p no:cacheprovider %s
# Errors as Python exceptions: CompileError carrying the compiler's located
# diagnostics (file:line:col, the file as given, <string> for source text);
# CallError carrying the C runtime's message (last_error) for a wrong dtype,
# a wrong static size, a wrong rank, strides that are not row-major (passed
# through to the runtime: it decides); Python-side refusals (an element type
# the ABI lacks, a read-only output); a compiler that does not exist.

import array
import os

import attnc
import pkgtest as P


def test_compile_errors(c, tmp_path):
    """CompileError with the compiler's located diagnostics; missing files,
    a missing compiler, bad options."""
    tmp = str(tmp_path)
    bad = P.SELFATTN.replace("score   e = scaled_dot(Q, K)",
                             "score   e = scaled_dot(Q, Kx)")
    line = bad.splitlines().index("  score   e = scaled_dot(Q, Kx)") + 1
    e = c.raises(attnc.CompileError, lambda: attnc.compile(bad), "an unknown name")
    if e is not None:
        print(e)
        c.check(e.returncode != 0 and e.errors, "errors: %r" % e.diagnostics)
        d = e.errors[0] if e.errors else None
        c.check(d is not None and d.file == "<string>" and d.line == line and
                d.column > 1 and "Kx" in d.message, "diagnostic %r (line %d)" % (d, line))
        c.check("<string>:%d:" % line in str(e), "str(CompileError): %s" % e)
        c.check(isinstance(e, attnc.AttncError), "an AttncError")

    path = os.path.join(tmp, "bad.attn")
    with open(path, "w") as f:
        f.write(bad)
    e = c.raises(attnc.CompileError, lambda: attnc.compile(path), "a bad file")
    if e is not None:
        c.check(e.errors and e.errors[0].file == path and e.errors[0].line == line,
                "file diagnostic %r" % (e.diagnostics,))
        c.check(tmp not in "".join(e.output.split(path)), "only the user's path is "
                "shown (not the cache's copy): %s" % e.output)
    c.raises(FileNotFoundError, lambda: attnc.compile(os.path.join(tmp, "no.attn")),
             "a missing file")
    c.raises(attnc.CompilerNotFoundError,
             lambda: attnc.compile(P.SELFATTN, compiler=os.path.join(tmp, "nope")),
             "a compiler that does not exist")
    c.raises(ValueError, lambda: attnc.compile(P.SELFATTN, opt=7), "opt=7")
    e = c.raises(attnc.CompileError,
                 lambda: attnc.compile(P.SELFATTN, flags=["--tile-size=0"]),
                 "a bad flag")
    c.check(e is not None and "--tile-size must be between" in str(e), str(e))

def call_error(c, m, what, *args, **kw):
    e = c.raises(attnc.CallError, lambda: m(*args, **kw), what)
    if e is None:
        return None
    print("%s: %s" % (what, str(e).splitlines()[0]))
    c.check(isinstance(e, ValueError), "CallError is a ValueError")
    return e


def runtime_refused(c, m, e, what, *words):
    if e is None:
        return
    c.check(e.status not in (None, 0), "%s: status %r" % (what, e.status))
    c.check(bool(e.runtime_message) and e.runtime_message == e.last_error() ==
            m.last_error(), "%s: runtime message %r, last_error %r" % (
                what, e.runtime_message, m.last_error()))
    c.check(e.runtime_message in str(e), "%s: message in str()" % what)
    for w in words:
        c.check(w in e.runtime_message, "%s: %r not in %r" % (
            what, w, e.runtime_message))


class Strided:
    """A column-major view of a tensor, through the array interface."""

    def __init__(self, base, shape, strides):
        self.base = base
        self.__array_interface__ = {
            "version": 3, "shape": shape, "typestr": "<f4",
            "data": (base.data_ptr, False), "strides": strides}


def test_call_errors(c, selfattn):
    """CallError with the runtime's message; Python-side refusals; a valid
    call afterwards."""
    m = selfattn.selfattn
    b, n = 2, 3
    X = attnc.Tensor((b, n, P.D), "f32", P.rand((b, n, P.D), 1))
    Wq = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 2))
    Wk = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 3))
    X64 = attnc.Tensor((b, n, P.D), "f64", P.rand((b, n, P.D), 1))
    e = call_error(c, m, "f64 data for an f32 input", X64, Wq, Wk)
    runtime_refused(c, m, e, "dtype", "X")
    c.check(e is not None and e.argument == "X", "argument named: %r" % (
        e and e.argument))
    c.check(e is not None and "X = attnc.Tensor f64 [2, 3, 6]" in str(e),
            "the arguments are shown: %s" % e)

    e = call_error(c, m, "a wrong static size", X, attnc.Tensor((P.DK, P.D + 1)), Wk)
    runtime_refused(c, m, e, "static size", "Wq")

    e = call_error(c, m, "a wrong rank", attnc.Tensor((n, P.D)), Wq, Wk)
    runtime_refused(c, m, e, "rank", "X")

    e = call_error(c, m, "an output of the wrong size", X, Wq, Wk,
                   out={"A": attnc.Tensor((b, n, n + 1))})
    runtime_refused(c, m, e, "output size", "A")


    Xt = attnc.Tensor((b, n, P.D))
    st = (4, 4 * b, 4 * b * n)  # column-major, in bytes
    e = call_error(c, m, "non-row-major strides", Strided(Xt, (b, n, P.D), st), Wq, Wk)
    runtime_refused(c, m, e, "strides", "X")

    # Refused before the runtime: element types the ABI does not have, strides
    # that are not whole elements, read-only outputs, non-arrays.
    e = call_error(c, m, "int8 data", memoryview(array.array("b", [0] * (b * n * P.D))).cast(
        "B").cast("b", (b, n, P.D)), Wq, Wk)
    c.check(e is not None and e.status is None and e.argument == "X" and
            "unsupported" in str(e), "int8: %s" % e)
    e = call_error(c, m, "half-element strides", Strided(Xt, (b, n, P.D), (2, 2, 2)), Wq, Wk)
    c.check(e is not None and "not a whole number" in str(e), str(e))
    ro = memoryview(bytes(4 * b * n * n)).cast("f", (b, n, n))
    e = call_error(c, m, "a read-only output", X, Wq, Wk, out={"A": ro})
    c.check(e is not None and "read-only" in str(e) and e.argument == "A", str(e))
    e = call_error(c, m, "not an array", object(), Wq, Wk)
    c.check(e is not None and "not an array" in str(e), str(e))

    # A valid call after refused ones still works.
    y, A = m(X, Wq, Wk)
    ry, rA = P.reference(X.flat(), Wq.flat(), Wk.flat(), b, n)
    c.close(y.flat(), ry, "valid call after errors")
