# RUN: %python %s
# The shipped examples (examples/*.attn) compiled as they are and compared
# with the double-precision reference, so that the examples cannot rot.

import os

import attnc_testlib as T

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "examples")

SPECS = {
    "bahdanau": {
        "batch": 1, "inputs": ["X", "s"], "feature": ("X", None, None),
        "query": ("s", None, None), "keys": ("F", None, None),
        "values": ("F", None, None),
        "score": ("additive", ["W1", "W2", "bw", "w"], "tanh"),
        "outputs": [("y", "linear", "Wc", "bc", None, True), ("weights", "a")]},
    "luong": {
        "batch": 1, "inputs": ["H", "ht", "L"], "feature": ("H", None, None),
        "query": ("ht", None, None), "keys": ("F", None, None),
        "values": ("F", None, None), "score": ("general", ["W"], None),
        "lengths": "L",
        "outputs": [("y", "linear", "Wc", None, "tanh", False)]},
    "transformer": {
        "batch": 1, "heads": 4, "inputs": ["X"], "query": ("X", "Wq", None),
        "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
        "score": ("scaled_dot", [], None), "causal": True,
        "outputs": [("Y", "linear", "Wo", None, None, False)]},
    "sparsemax": {
        "batch": 1, "inputs": ["X"], "query": ("X", "Wq", None),
        "keys": ("X", "Wk", None), "values": ("X", "Wv", None),
        "score": ("scaled_dot", [], None), "causal": True,
        "align": "entmax15", "outputs": [("y", "c"), ("weights", "a")]},
    "euclidean": {
        "batch": 1, "inputs": ["X", "P"], "query": ("X", None, None),
        "keys": ("P", None, None), "values": ("P", None, None),
        "score": ("neg_sq_euclidean", [], None),
        "outputs": [("y", "c"), ("weights", "a")]},
}

SIZES = {
    "bahdanau": [{"b": 1, "n_f": 1}, {"b": 2, "n_f": 13}, {"b": 1, "n_f": 67}],
    "luong": [{"b": 1, "n": 1}, {"b": 3, "n": 17}, {"b": 2, "n": 65}],
    "transformer": [{"b": 1, "n": 1}, {"b": 2, "n": 7}, {"b": 1, "n": 66}],
    "sparsemax": [{"b": 1, "n": 1}, {"b": 2, "n": 7}, {"b": 1, "n": 66}],
    "euclidean": [{"b": 1, "n": 1, "m": 1}, {"b": 2, "n": 7, "m": 13},
                  {"b": 1, "n": 66, "m": 0}, {"b": 1, "n": 17, "m": 130}],
}

checker = T.Checker()
for name, spec in SPECS.items():
    with open(os.path.join(EXAMPLES, name + ".attn")) as f:
        source = f.read()
    for i, dims in enumerate(SIZES[name]):
        checker.run(T.run_case, source, name, spec, dims, seed=100 + i,
                    overrides={"L": T.lengths_override},
                    scale={"W": 0.3, "Wq": 0.3, "Wk": 0.3, "Wv": 0.3,
                           "Wo": 0.3, "W1": 0.3, "W2": 0.3, "Wc": 0.3},
                    label="examples/%s.attn" % name)
checker.finish()
