# RUN: rm -rf %t && mkdir -p %t && %python %s %t
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "Inputs"))
import attnc  # noqa: E402
import pkgtest as P  # noqa: E402

tmp = sys.argv[1]
c = P.Checker()
real = attnc.find_compiler()
log = os.path.join(tmp, "runs.log")
wrapper = os.path.join(tmp, "attnc-wrapper")
with open(wrapper, "w") as f:
    f.write('#!/bin/sh\ncase "$*" in *--version*) ;; *) echo "$*" >> "%s" ;; '
            'esac\nexec "%s" "$@"\n' % (log, real))
os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
cache = os.path.join(tmp, "cache")


def runs():
    if not os.path.exists(log):
        return 0
    with open(log) as f:
        return len(f.read().splitlines())


def comp(src=P.SELFATTN, **kw):
    kw.setdefault("cache_dir", cache)
    kw.setdefault("compiler", wrapper)
    return attnc.compile(src, **kw)


m1 = comp()
c.check(runs() == 1 and not m1.cached, "first compile runs attnc (%d)" % runs())
c.check(m1.path.startswith(cache + os.sep), "library in the cache: %s" % m1.path)
m2 = comp()
c.check(runs() == 1 and m2.cached, "second compile: cached (%d runs)" % runs())
c.check(m2.path == m1.path, "same library")

# Another process with the same cache does not compile either.
code = ("import attnc, sys; m = attnc.compile(%r, cache_dir=%r, compiler=%r); "
        "sys.exit(0 if m.cached else 3)" % (P.SELFATTN, cache, wrapper))
rc = subprocess.run([sys.executable, "-c", code]).returncode
c.check(rc == 0 and runs() == 1, "another process: cached (rc %d, %d runs)" % (
    rc, runs()))

# A path and its text share the cache entry only if the text is the same.
path = os.path.join(tmp, "selfattn.attn")
with open(path, "w") as f:
    f.write(P.SELFATTN)
m3 = comp(path)
c.check(m3.cached and runs() == 1, "the file of the same text: cached")

# Any change compiles again.
before = runs()
comp(opt=2)
c.check(runs() == before + 1, "opt=2 compiles")
comp(flags=["--tile-size=16"])
c.check(runs() == before + 2, "flags compile")
comp(P.SELFATTN + "\n// a comment\n")
c.check(runs() == before + 3, "another source compiles")
comp(flags=["--tile-size=16"])
c.check(runs() == before + 3, "flags again: cached")
# The compiler's identity (here its modification time) is part of the key.
t = time.time() + 5
os.utime(wrapper, (t, t))
m4 = comp()
c.check(runs() == before + 4 and not m4.cached, "a changed compiler compiles")

# The compiled library still works when loaded from the cache.
X = attnc.Tensor((1, 2, P.D), "f32", P.rand((1, 2, P.D), 1))
W = attnc.Tensor((P.DK, P.D), "f32", P.rand((P.DK, P.D), 2))
c.close(m2.selfattn(X, W, W).y.flat(), m1.selfattn(X, W, W).y.flat(), "cached")

# $ATTNC selects the compiler, $ATTNC_CACHE_DIR the cache.
env_cache = os.path.join(tmp, "env-cache")
os.environ["ATTNC"] = wrapper
os.environ["ATTNC_CACHE_DIR"] = env_cache
before = runs()
m5 = attnc.compile(P.SELFATTN + "\n// env\n")
c.check(runs() == before + 1, "$ATTNC used")
c.check(m5.path.startswith(env_cache + os.sep), "$ATTNC_CACHE_DIR: %s" % m5.path)
m6 = attnc.compile(P.SELFATTN + "\n// env\n", cache_dir=False)
c.check(runs() == before + 2 and not m6.path.startswith(env_cache),
        "cache_dir=False: private cache %s" % m6.path)
os.environ["ATTNC"] = os.path.join(tmp, "missing-attnc")
c.raises(attnc.CompilerNotFoundError, lambda: attnc.compile(P.SELFATTN),
         "$ATTNC naming nothing")
del os.environ["ATTNC"]
c.check(attnc.find_compiler() == real, "without $ATTNC: %s" % real)
# A failed compilation leaves nothing in the cache.
entries = sorted(os.listdir(env_cache))
c.raises(attnc.CompileError, lambda: attnc.compile("model broken {"), "broken")
c.check(sorted(os.listdir(env_cache)) == entries, "no entry for a failure")
c.finish()
