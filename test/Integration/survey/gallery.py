# RUN: %python %s
# The survey gallery itself (examples/survey/*.attn): every program has a
# numerical test here, is at most a few dozen lines (60 lines, header
# included), and starts with a header comment that cites its paper (authors
# and year) and the survey (Brauwers & Frasincar, TKDE 2021) with equation
# numbers or the survey's table/section.

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GALLERY = os.path.join(HERE, "..", "..", "..", "examples", "survey")

failures = []
files = sorted(f for f in os.listdir(GALLERY) if f.endswith(".attn"))
if len(files) < 15:
    failures.append("expected the 15 programs of the gallery, found %d: %s"
                    % (len(files), files))
for f in files:
    with open(os.path.join(GALLERY, f)) as fh:
        lines = fh.read().splitlines()
    header = []
    for line in lines:
        if not line.startswith("//"):
            break
        header.append(line)
    text = " ".join(header)
    if not os.path.exists(os.path.join(HERE, f.replace(".attn", ".py"))):
        failures.append("%s: no test %s" % (f, f.replace(".attn", ".py")))
    if len(lines) > 60:
        failures.append("%s: %d lines (a few dozen at most)" % (f, len(lines)))
    if not re.search(r"\(\d{4}\)", text):
        failures.append("%s: the header cites no paper (authors (year))" % f)
    if "Brauwers & Frasincar" not in text:
        failures.append("%s: the header does not cite the survey" % f)
    if not re.search(r"eqs?\. \(?\d+|Table 2|section \d", text):
        failures.append("%s: the header names no equation of the survey" % f)
for msg in failures:
    print("FAIL:", msg, file=sys.stderr)
print("%d files, %d problems" % (len(files), len(failures)))
sys.exit(1 if failures else 0)
