# REQUIRES: ptxas
# RUN: %python %s
# The PTX of every shipped example (examples/, examples/survey/) and of a
# sweep of small programs (test/GPU/Inputs: dot, scaled_dot, general and
# additive scores; causal, lengths and window masks; multi-head with the
# weights and the log-sum-exp) compiled by `attnc --target=cuda:sm_80` and
# `:sm_90 --emit=ptx` and assembled by ptxas for that architecture. A
# program the GPU path does not take yet must be refused with a located
# error (file:line:col: error: ... the cuda target ...), never a crash, and
# must be one of REFUSED below, so that a newly refused program fails the
# test, and a newly accepted one too (then move it out of REFUSED).
# Without ptxas (lit feature `ptxas`: /usr/local/cuda/bin/ptxas or PATH)
# the test is UNSUPPORTED.

import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
ATTNC = os.path.join(os.environ["ATTNC_TOOLS_DIR"], "attnc")
PTXAS = os.environ["ATTNC_PTXAS"]
ARCHS = ["sm_80", "sm_90"]

# Programs the GPU path refuses today, and the words the refusal names.
REFUSED = {
    # d = 1024: a query tile's accumulator is more private memory than a
    # thread is given.
    "large_head": "needs more than 16384 bytes",
}

programs = sorted(glob.glob(os.path.join(ROOT, "examples", "*.attn")) +
                  glob.glob(os.path.join(ROOT, "examples", "survey", "*.attn")) +
                  glob.glob(os.path.join(HERE, "Inputs", "*.attn")))
failures = []
accepted = []
refused = []
with tempfile.TemporaryDirectory() as work:
    for program in programs:
        name = os.path.splitext(os.path.basename(program))[0]
        for arch in ARCHS:
            ptx = os.path.join(work, "%s.%s.ptx" % (name, arch))
            run = subprocess.run([ATTNC, program, "--target=cuda:" + arch,
                                  "--emit=ptx", "-o", ptx],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                located = re.search(r"\.attn:\d+:\d+: error: .*cuda target",
                                    run.stderr)
                if run.returncode != 1 or not located:
                    failures.append("%s (%s): attnc failed without a located "
                                    "refusal (exit %d):\n%s"
                                    % (name, arch, run.returncode,
                                       run.stderr[-2000:]))
                elif name not in REFUSED:
                    failures.append("%s (%s): refused, and not in REFUSED:\n%s"
                                    % (name, arch, run.stderr[-2000:]))
                elif REFUSED[name] not in run.stderr:
                    failures.append("%s (%s): refused for another reason than "
                                    "'%s':\n%s" % (name, arch, REFUSED[name],
                                                   run.stderr[-2000:]))
                else:
                    refused.append("%s (%s)" % (name, arch))
                continue
            if name in REFUSED:
                failures.append("%s (%s): compiles now; take it out of "
                                "REFUSED" % (name, arch))
            with open(ptx) as f:
                text = f.read()
            if ".target " + arch not in text or ".entry" not in text:
                failures.append("%s (%s): the PTX has no kernel entry for %s"
                                % (name, arch, arch))
                continue
            cubin = os.path.join(work, "%s.%s.cubin" % (name, arch))
            asm = subprocess.run([PTXAS, "-arch=" + arch, ptx, "-o", cubin],
                                 capture_output=True, text=True)
            if asm.returncode != 0:
                failures.append("%s (%s): ptxas failed:\n%s"
                                % (name, arch, asm.stderr[-2000:]))
                continue
            accepted.append("%s (%s)" % (name, arch))

print("assembled by ptxas: %d: %s" % (len(accepted), ", ".join(accepted)))
print("refused with a located error: %d: %s" % (len(refused), ", ".join(refused)))
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
