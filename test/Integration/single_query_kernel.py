# RUN: %python %s
# The single-query kernel (BlockedDot.cpp, rowDots): a tile of one query (a
# model with one query per batch entry, or a static n_q = 1, as decoding
# declares it) reads the keys in place, one accumulator per key and a tree
# of shuffles that sums each into its lane. Checked against the float64
# reference on every score it takes (dot, scaled_dot, general and
# biased_general after their decomposition, cosine with zero keys), widths
# below, at and around the vector width (1, 7, 16, 19, 64, 128: whole
# vectors and a shorter last chunk), key counts around the lane and tile
# sizes up to a key split (0, 1, 15, 16, 17, 127-131, 4099), the length
# and causal masks, the weights output, heads with a static n_q = 1, and a
# dynamic n_q called with 1 (the single-query copy of the tiled form) and
# with more (the form for many queries, beside it under an scf.if).

import attnc_testlib as T

models = []
for kind in ("dot", "scaled_dot", "general", "biased_general", "cosine"):
    for d in (1, 7, 19, 64):
        for lengths in (False, True):
            for weights in (False, True):
                name = "sq_%s_%d_%d%d" % (kind, d, lengths, weights)
                src, spec = T.score_model(name, kind, None, lengths=lengths,
                                          single_query=True, d=d, d_q=d,
                                          weights=weights)
                src = src.replace(", d_w = 5", "")
                models.append((name, src, spec))

SIZES = [(1, 1), (15, 2), (16, 1), (17, 3), (127, 1), (128, 2), (129, 1),
         (131, 2), (0, 2), (4099, 1)]


def sizes(name):
    return [{"n_k": nk, "b": b} for nk, b in SIZES]


checker = T.Checker()
T.run_models(checker, models, sizes, seed=7,
             overrides={"L": T.lengths_override, "X": T.zero_rows(5)},
             scale={"W": 0.5})


def headed(name, d, causal, nq=" = 1"):
    return """
model %s {
  dims h, n_q%s, n_k, d = %d
  batch b
  input Q : f32[b, h, n_q, d]
  input K, V : f32[b, h, n_k, d]
  query q = Q
  keys k = K
  values v = V
  score e = scaled_dot(q, k)
  %s
  align a = softmax(e)
  context c = sum(a * v)
  output O = c
}
""" % (name, nq, d, "mask causal" if causal else "")


def headed_spec(causal):
    # The reference takes the group dims (b, h) as independent attentions.
    return {"batch": 2, "inputs": ["Q", "K", "V"], "query": ("Q", None, None),
            "keys": ("K", None, None), "values": ("V", None, None),
            "score": ("scaled_dot", [], None), "causal": causal,
            "outputs": [("O", "c")]}


for d in (16, 128):
    for causal in (False, True):
        name = "heads_%d_%d" % (d, causal)
        spec = headed_spec(causal)
        for i, (nk, b, h) in enumerate([(1, 1, 1), (33, 2, 3), (130, 1, 5),
                                        (2051, 1, 2)]):
            checker.case(headed(name, d, causal), name, spec,
                         {"b": b, "h": h, "n_k": nk}, seed=20 + i,
                         label="heads d=%d causal=%d" % (d, causal))

# A dynamic n_q: 1 takes the single-query copy, 2 and 9 the other form.
for d in (16, 64):
    for causal in (False, True):
        name = "dyn_%d_%d" % (d, causal)
        spec = headed_spec(causal)
        for i, (nq, nk, b, h) in enumerate([(1, 1, 1, 1), (1, 130, 2, 3),
                                            (1, 1500, 1, 1), (2, 130, 1, 2),
                                            (9, 17, 2, 1)]):
            checker.case(headed(name, d, causal, nq=""), name, spec,
                         {"b": b, "h": h, "n_q": nq, "n_k": nk}, seed=40 + i,
                         label="dynamic n_q d=%d causal=%d" % (d, causal))
checker.finish()
