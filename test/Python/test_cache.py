# REQUIRES: python-pytest
# RUN: env ATTNC_CACHE_DIR=%t.cache %python -m pytest -q -rs -p no:cacheprovider %s
# Compiled libraries are cached by a hash of (source, target, opt, flags,
# compiler binary): compiling the same thing again, in this process or
# another, loads the library without running the compiler; a change of any
# of them compiles again. The compiler is a wrapper script that logs its
# runs. Also: $ATTNC picks the compiler, $ATTNC_CACHE_DIR the cache,
# cache_dir=False a private one.

import os
import stat
import subprocess
import sys
import time

import pytest

import attnc
import pkgtest as P


class LoggingCompiler:
    """A wrapper script around the real attnc that logs each compilation."""

    def __init__(self, tmp):
        self.real = attnc.find_compiler()
        self.log = os.path.join(tmp, "runs.log")
        self.path = os.path.join(tmp, "attnc-wrapper")
        with open(self.path, "w") as f:
            f.write('#!/bin/sh\ncase "$*" in *--version*) ;; *) echo "$*" >> '
                    '"%s" ;; esac\nexec "%s" "$@"\n' % (self.log, self.real))
        os.chmod(self.path, os.stat(self.path).st_mode | stat.S_IXUSR)

    def runs(self):
        if not os.path.exists(self.log):
            return 0
        with open(self.log) as f:
            return len(f.read().splitlines())


@pytest.fixture
def wrapper(tmp_path):
    return LoggingCompiler(str(tmp_path))


def test_cached_in_process_and_across_processes(c, tmp_path, wrapper):
    cache = str(tmp_path / "cache")

    def comp(src=P.SELFATTN, **kw):
        return attnc.compile(src, cache_dir=cache, compiler=wrapper.path, **kw)

    m1 = comp()
    c.check(wrapper.runs() == 1 and not m1.cached,
            "first compile runs attnc (%d)" % wrapper.runs())
    c.check(m1.path.startswith(cache + os.sep),
            "library in the cache: %s" % m1.path)
    m2 = comp()
    c.check(wrapper.runs() == 1 and m2.cached,
            "second compile: cached (%d runs)" % wrapper.runs())
    c.check(m2.path == m1.path, "same library")

    # Another process with the same cache does not compile either.
    code = ("import attnc, sys; m = attnc.compile(%r, cache_dir=%r, "
            "compiler=%r); sys.exit(0 if m.cached else 3)" % (
                P.SELFATTN, cache, wrapper.path))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    rc = subprocess.run([sys.executable, "-c", code], env=env).returncode
    c.check(rc == 0 and wrapper.runs() == 1,
            "another process: cached (rc %d, %d runs)" % (rc, wrapper.runs()))

    # A path and its text share the cache entry only if the text is the same.
    path = str(tmp_path / "selfattn.attn")
    with open(path, "w") as f:
        f.write(P.SELFATTN)
    m3 = comp(path)
    c.check(m3.cached and wrapper.runs() == 1,
            "the file of the same text: cached")

    # The compiled library still works when loaded from the cache.
    X = attnc.Tensor((1, 2, P.D), "f32", P.rand((1, 2, P.D), 1))
    W = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 2))
    c.close(m2.selfattn(X, W, W).y.flat(), m1.selfattn(X, W, W).y.flat(),
            "cached")


def test_any_change_compiles_again(c, tmp_path, wrapper):
    cache = str(tmp_path / "cache")

    def comp(src=P.SELFATTN, **kw):
        return attnc.compile(src, cache_dir=cache, compiler=wrapper.path, **kw)

    comp()
    before = wrapper.runs()
    comp(opt=2)
    c.check(wrapper.runs() == before + 1, "opt=2 compiles")
    comp(flags=["--tile-size=16"])
    c.check(wrapper.runs() == before + 2, "flags compile")
    comp(P.SELFATTN + "\n// a comment\n")
    c.check(wrapper.runs() == before + 3, "another source compiles")
    comp(flags=["--tile-size=16"])
    c.check(wrapper.runs() == before + 3, "flags again: cached")
    # The compiler's identity (here its modification time) is part of the
    # key.
    t = time.time() + 5
    os.utime(wrapper.path, (t, t))
    m4 = comp()
    c.check(wrapper.runs() == before + 4 and not m4.cached,
            "a changed compiler compiles")


def test_environment(c, tmp_path, wrapper, monkeypatch):
    """$ATTNC selects the compiler, $ATTNC_CACHE_DIR the cache; a failed
    compilation leaves nothing in the cache."""
    env_cache = str(tmp_path / "env-cache")
    monkeypatch.setenv("ATTNC", wrapper.path)
    monkeypatch.setenv("ATTNC_CACHE_DIR", env_cache)
    before = wrapper.runs()
    m5 = attnc.compile(P.SELFATTN + "\n// env\n")
    c.check(wrapper.runs() == before + 1, "$ATTNC used")
    c.check(m5.path.startswith(env_cache + os.sep),
            "$ATTNC_CACHE_DIR: %s" % m5.path)
    m6 = attnc.compile(P.SELFATTN + "\n// env\n", cache_dir=False)
    c.check(wrapper.runs() == before + 2 and not m6.path.startswith(env_cache),
            "cache_dir=False: private cache %s" % m6.path)
    monkeypatch.setenv("ATTNC", str(tmp_path / "missing-attnc"))
    c.raises(attnc.CompilerNotFoundError, lambda: attnc.compile(P.SELFATTN),
             "$ATTNC naming nothing")
    monkeypatch.delenv("ATTNC")
    c.check(attnc.find_compiler() == wrapper.real,
            "without $ATTNC: %s" % wrapper.real)
    entries = sorted(os.listdir(env_cache))
    c.raises(attnc.CompileError, lambda: attnc.compile("model broken {"),
             "broken")
    c.check(sorted(os.listdir(env_cache)) == entries,
            "no entry for a failure")
