# REQUIRES: python-pytest
# RUN: env ATTNC_CACHE_DIR=%t.cache %python -m pytest -q -rs -p no:cacheprovider %s
# module.ir(stage): the program at any stage of `attnc --emit=`; the
# attention weights come out as an ordinary output.

import attnc
import pkgtest as P


def test_stages(c):
    """Every stage of `attnc --emit=`, flags, and what is refused."""
    mod = attnc.compile(P.SELFATTN, opt=2, flags=["--tile-size=16"])
    attn = mod.ir("attn")
    c.check("attn.attention" in attn, "ir('attn'):\n" + attn)
    c.check('attn.model = "selfattn"' in attn, "the ABI attributes in ir('attn')")
    c.check(mod.ir() is attn, "attn is the default stage, memoized")
    c.check("selfattn" in mod.ir("ast"), "ir('ast')")
    loops = mod.ir("loops")
    c.check("scf.for" in loops and "attn.attention" not in loops, "ir('loops')")
    c.check("llvm.func" in mod.ir("llvm-dialect"), "ir('llvm-dialect')")
    llvm = mod.ir("llvm")
    c.check("define" in llvm and "attnc_selfattn" in llvm, "ir('llvm')")
    c.check("attnc_selfattn_signature" in mod.ir("header"), "ir('header')")
    obj = mod.ir("obj")
    c.check(isinstance(obj, bytes) and obj[:4] == b"\x7fELF", "ir('obj') bytes")
    c.check("loc(" in mod.ir("attn", flags=["--mlir-print-debuginfo"]),
            "extra flags reach the compiler")
    e = c.raises(attnc.CompileError, lambda: mod.ir("bogus"), "an unknown stage")
    c.check(e is not None and "bogus" in str(e), str(e))
    c.raises(ValueError, lambda: mod.ir("so"), "the library is module.path")
    c.raises(ValueError, lambda: attnc.load(mod.path).ir("attn"), "loaded module")


def test_weights(c, selfattn):
    """Weights are outputs like any other."""
    mod = selfattn
    A = mod.selfattn(attnc.Tensor.full((1, 3, P.D), 0.5), attnc.Tensor.full(
        (P.DK, P.D), 0.1), attnc.Tensor.full((P.DK, P.D), 0.2)).A
    c.close(A.flat(), [1, 0, 0, .5, .5, 0, 1 / 3, 1 / 3, 1 / 3], "uniform weights")
