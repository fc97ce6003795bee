#!/usr/bin/env python3
"""Compile time of attnc: each file compiled to a shared library with two
sets of options, alternately (so that the machine's drift hits both), the
fastest and the median wall time of --runs compiles each, and their ratio.

  python3 bench/compile_time.py [files...] [--runs 15]
      [--a '--backend-parts=1'] [--b ''] [--attnc build/bin/attnc]

The default files are examples/transformer.attn (issue 7's compile-time
target) and examples/bahdanau.attn; the default pair is one back-end part
against attnc's default (as many parts as cores, at most 4). Needs only the
Python standard library and the build.
"""

import argparse
import os
import shlex
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="*", default=[
        os.path.join(ROOT, "examples", "transformer.attn"),
        os.path.join(ROOT, "examples", "bahdanau.attn")])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--a", default="--backend-parts=1",
                        help="attnc options of the first set")
    parser.add_argument("--b", default="",
                        help="attnc options of the second set")
    parser.add_argument("--attnc", default=os.path.join(ROOT, "build", "bin",
                                                        "attnc"))
    opts = parser.parse_args()
    sets = {"a": shlex.split(opts.a), "b": shlex.split(opts.b)}
    print("a: %s\nb: %s" % (opts.a or "(defaults)", opts.b or "(defaults)"))
    print("%-28s | %17s | %17s | %s" % ("file", "a min / median s",
                                        "b min / median s", "a / b (min, median)"))
    with tempfile.TemporaryDirectory() as work:
        output = os.path.join(work, "lib.so")
        for path in opts.files:
            times = {"a": [], "b": []}
            for _ in range(opts.runs):
                for name, flags in sets.items():
                    start = time.perf_counter()
                    subprocess.run([opts.attnc, path, "-o", output] + flags,
                                   check=True)
                    times[name].append(time.perf_counter() - start)
            a, b = times["a"], times["b"]
            print("%-28s | %7.3f / %7.3f | %7.3f / %7.3f | %.2f, %.2f" % (
                os.path.basename(path), min(a), statistics.median(a),
                min(b), statistics.median(b), min(a) / min(b),
                statistics.median(a) / statistics.median(b)))


if __name__ == "__main__":
    main()
