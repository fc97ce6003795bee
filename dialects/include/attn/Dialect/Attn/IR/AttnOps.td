//===- AttnOps.td - Operations of the attn dialect ----------*- tablegen -*-===//
//
// The ops that carry an attention model through the compiler. All of them
// are in destination-passing style on memrefs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attn/Dialect/Attn/IR/AttnBase.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"

//===----------------------------------------------------------------------===//
// Operand types: the high-level ops work on tensors (destination-passing
// style: `outs` are the inits, the results are the new values) or, after
// bufferization, on memrefs (no results). Element types are floats of any
// width, with i32 where a length is meant.
//===----------------------------------------------------------------------===//

class Attn_Shaped<list<Type> elems, list<int> ranks> : AnyTypeOf<[
    TensorRankOf<elems, ranks>, MemRefRankOf<elems, ranks>],
    "tensor or memref of rank " # !interleave(ranks, "/") # " of " #
    !interleave(!foreach(t, elems, t.summary), " or ")>;
def Attn_AnyShapedFloat : AnyTypeOf<[TensorOf<[AnyFloat]>, MemRefOf<[AnyFloat]>],
    "tensor or memref of floats">;

// The traits of an op that reads its `ins` and writes its `outs`.
// A table a score modifier or mask predicate reads (any element type).
def Attn_AnyTable : AnyTypeOf<[AnyRankedTensor, AnyMemRef],
                              "ranked tensor or memref">;

class Attn_DpsOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
        DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>])> {
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable();
  }];
  let extraClassDefinition = [{
    void $cppClass::getEffects(
        ::llvm::SmallVectorImpl<::mlir::SideEffects::EffectInstance<
            ::mlir::MemoryEffects::Effect>> &effects) {
      ::mlir::attn::getDpsMemoryEffects(*this, effects);
    }
  }];
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

def Attn_LinearOp : Attn_DpsOp<"linear"> {
  let summary = "a linear map W x + b on the last dimension (per head or shared)";
  let description = [{
    Computes `output[..., o] = sum_i input[..., i] * weight[(h,) o, i] +
    bias[(h,) o]`: the linear feature, query, key, value and output models of
    the survey (its `W F`, with one row per vector). Four layouts are
    accepted; `B` is a batch, `H` the heads, `N` the vectors:

    | input | weight | output |
    |---|---|---|
    | [B, N, I] | [O, I] | [B, N, O] |
    | [B, N, I] | [H, O, I] | [B, H, N, O] (per-head projection) |
    | [B, H, N, I] | [O, I] | [B, H, N, O] |
    | [B, H, N, I] | [H, O, I] | [B, H, N, O] |

    The bias is shared ([O]) or per head ([H, O], with a 4-d output),
    independently of the weight. An input with one (static) head is
    broadcast over the output's heads.

    Example:

    ```mlir
    attn.linear ins(%x, %wq : memref<?x?x64xf32>, memref<4x16x64xf32>)
        outs(%q : memref<?x4x?x16xf32>)
    ```
  }];
  let arguments = (ins
    Attn_Shaped<[AnyFloat], [3, 4]>:$input,
    Attn_Shaped<[AnyFloat], [2, 3]>:$weight,
    Optional<Attn_Shaped<[AnyFloat], [1, 2]>>:$bias,
    Attn_Shaped<[AnyFloat], [3, 4]>:$output);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight `:` type($input) `,` type($weight) `)`
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `outs` `(` $output `:` type($output) `)` attr-dict
    (`->` type($results)^)?
  }];
  let builders = [
    // On tensors the result is the new value of `output`; none on memrefs.
    OpBuilder<(ins "Value":$input, "Value":$weight, "Value":$bias,
                   "Value":$output), [{
      build($_builder, $_state, ::mlir::attn::initResultTypes(output), input,
            weight, bias, output);
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_DpsOp<"attention", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the attention model: score, align, weighted sum, masks";
  let description = [{
    For every batch entry b, head h and query i:

        e_l = score(q_i, k_l)                     (survey eq. 2)
        a   = align(e) over the unmasked keys l   (eq. 3)
        c_i = sum_l a_l v_l                       (eq. 4)

    `query` is [B, Hq, Nq, Dq], `keys` [B, Hk, Nk, Dk], `values` [B, Hv,
    Nk, Dv] with Hq a multiple of Hk and of Hv (query head h reads key head
    h / (Hq / Hk) and value head h / (Hq / Hv): Hk = Hv = 1 is multi-query
    attention). A batch size of 1 in
    `query`, `keys` or `values` is broadcast. `context` is [B, Nq, Hq, Dv]:
    the heads' contexts side by side, i.e. already concatenated.
    `weights`, when present, receives a as [B, Hq, Nq, Nk]; `lse`, when
    present, log(sum_l exp(e_l)) over the visible keys as [B, Hq, Nq]
    (-inf for a query that sees no key).

    `params` are those of the score function, named and in the order of the
    score-function table (`ScoreFunctions.cpp`, the survey's Table 2; a
    leading H dimension makes a parameter per head):
    additive: W1 [Dw, Dq], W2 [Dw, Dk], b [Dw], w [Dw]; general: W [Dk, Dq];
    biased_general: W, b [Dk]; activated_general: W, b (rank 0 or [1]);
    dot, scaled_dot, cosine, neg_sq_euclidean: none; multidim_additive (multi-dimensional,
    survey eqs. 30-32): W1, W2, b as additive and Wd [Dv, Dw] (never per
    head), a score per value feature, each with its own softmax over the
    keys (c_f = sum_l a_lf v_lf; no weights, no lse, align(softmax) only). They are written `params(NAME = %v, ... :
    types)`, every parameter once, in that order. `act` is the activation of
    additive and activated_general.

    Masks: `causal` lets query i see key l iff l <= i' with i' = i + Nk -
    Nq (`causal_offset(o)`: l <= i' + o); `lengths` [B] (i32) lets batch
    entry b see keys l < lengths[b]; `window(W)` keeps keys i' - W < l <=
    i'; `prefix` [B] (i32, with `causal`) also shows keys l < prefix[b] to
    every query (prefix-LM). Each query sees an interval of keys (the
    masks combine by intersection; `prefix` and `window` do not combine).
    A query that sees no key gets a zero context and zero weights.

    Expression masks and score modifiers (FlexAttention's mask_mod and
    score_mod): `band_lower(a)` / `band_upper(c)` keep keys i + a <= l <=
    i + c of query i (its own index, not aligned: an interval, so key
    tiles outside it are skipped); `mask_mod(@p)` names a function
    `(b, h, i, l : index, sizes..., tables...) -> i1` that keeps key l for
    query i of head h and batch entry b when true, evaluated per key;
    `score_mod(@f)` a function `(e : f32, b, h, i, l, sizes...,
    tables...) -> f32` that replaces the score e; `weight_mod(@g)` a
    function `(b, h, i, l, sizes..., tables...) -> f32` that multiplies
    each weight after the alignment (not renormalized: the local
    alignment's Gaussian prior; softmax and sigmoid only); `key_range(@r)`
    a function `(b, h, i, sizes..., tables...) -> (index, index)` giving
    bounds lo <= l <= hi that the mask predicate implies for query i (from
    data: a predicted window position), which `-attn-tile-attention` uses
    to visit only the key tiles of the union of a query tile's ranges (the
    mask predicate still decides each key). `mod_sizes` (index) and
    `mod_tables` (read-only tensors or memrefs: bias tables, slopes,
    segment ids) are passed to both after the indices. The functions are
    ordinary `func.func`s of the module (private, with memref table
    arguments), inlined into the key loop after the lowering. All masks
    combine by intersection.

    `align`: `softmax` (a = exp(e) / sum exp(e) over the visible keys),
    `sigmoid` (a_l = sigmoid(e_l), not normalized) or `argmax` (one-hot at
    the first visible key of maximum score, so c = v_m; NaN and -inf scores
    are never chosen) or `hard` with `seed(S)` (one-hot at the key sampled
    from softmax(e): the argmax of e_l + Gumbel noise from a counter-based
    hash of (S, b, h, i, l), docs/language.md), `sparsemax` or `entmax15`
    (sparse: a threshold over the whole row, see `attn.tile_sparse_align`).
    `lse` is the softmax's normalizer: only with align(softmax).

    Example (Bahdanau):

    ```mlir
    attn.attention additive act(tanh) align(softmax)
        ins(%q, %k, %v : memref<?x1x1x32xf32>, memref<?x1x?x64xf32>,
                         memref<?x1x?x64xf32>)
        params(W1 = %W1, W2 = %W2, b = %b, w = %w
               : memref<48x32xf32>, memref<48x64xf32>, memref<48xf32>,
                 memref<48xf32>)
        outs(%c : memref<?x1x1x64xf32>)
    ```
  }];
  let arguments = (ins
    Attn_Shaped<[AnyFloat], [4]>:$query,
    Attn_Shaped<[AnyFloat], [4]>:$keys,
    Attn_Shaped<[AnyFloat], [4]>:$values,
    Variadic<Attn_AnyShapedFloat>:$params,
    Optional<Attn_Shaped<[I32], [1]>>:$lengths,
    Optional<Attn_Shaped<[I32], [1]>>:$prefix,
    Variadic<Index>:$mod_sizes,
    Variadic<Attn_AnyTable>:$mod_tables,
    Attn_Shaped<[AnyFloat], [4]>:$output,
    Optional<Attn_Shaped<[AnyFloat], [4]>>:$weights,
    Optional<Attn_Shaped<[AnyFloat], [3]>>:$lse,
    Attn_ScoreKind:$score,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    DefaultValuedAttr<Attn_AlignKind, "::mlir::attn::AlignKind::softmax">:$align,
    UnitAttr:$causal,
    OptionalAttr<I64Attr>:$causal_offset,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<FlatSymbolRefAttr>:$score_mod,
    OptionalAttr<FlatSymbolRefAttr>:$mask_mod,
    OptionalAttr<FlatSymbolRefAttr>:$weight_mod,
    OptionalAttr<FlatSymbolRefAttr>:$key_range,
    OptionalAttr<I64Attr>:$band_lower,
    OptionalAttr<I64Attr>:$band_upper,
    OptionalAttr<I64Attr>:$seed);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $score (`act` `(` $act^ `)`)? `align` `(` $align `)` (`seed` `(` $seed^ `)`)?
    (`causal` $causal^)?
    (`causal_offset` `(` $causal_offset^ `)`)? (`window` `(` $window^ `)`)?
    (`band_lower` `(` $band_lower^ `)`)? (`band_upper` `(` $band_upper^ `)`)?
    (`score_mod` `(` $score_mod^ `)`)? (`mask_mod` `(` $mask_mod^ `)`)?
    (`weight_mod` `(` $weight_mod^ `)`)? (`key_range` `(` $key_range^ `)`)?
    custom<InputsAndScoreParams>(ref($score), $query, $keys, $values,
        type($query), type($keys), type($values), $params, type($params))
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    (`prefix` `(` $prefix^ `:` type($prefix) `)`)?
    (`mod_sizes` `(` $mod_sizes^ `)`)?
    (`mod_tables` `(` $mod_tables^ `:` type($mod_tables) `)`)?
    `outs` `(` $output `:` type($output) `)`
    (`weights` `(` $weights^ `:` type($weights) `)`)?
    (`lse` `(` $lse^ `:` type($lse) `)`)?
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable();
    /// The score function's row of the table (ScoreFunctions.h).
    const ::mlir::attn::ScoreFunction &getScoreFunction() {
      return ::mlir::attn::getScoreFunction(getScore());
    }
    /// The score parameter `name` (e.g. "W1"), or null when the score
    /// function has none of that name (or the op lacks it: not verified).
    ::mlir::Value getScoreParam(::llvm::StringRef name);
  }];
  let builders = [
    OpBuilder<(ins "Value":$query, "Value":$keys, "Value":$values,
                   "ValueRange":$params, "Value":$lengths, "Value":$output,
                   "Value":$weights, "ScoreKind":$score, "Activation":$act,
                   "AlignKind":$align, "bool":$causal,
                   CArg<"Value", "{}">:$prefix, CArg<"Value", "{}">:$lse), [{
      build($_builder, $_state,
            ::mlir::attn::initResultTypes({output, weights, lse}), query, keys,
            values, params, lengths, prefix, /*mod_sizes=*/ValueRange(),
            /*mod_tables=*/ValueRange(), output, weights, lse, score, act,
            align, causal, /*causal_offset=*/nullptr, /*window=*/nullptr,
            /*score_mod=*/nullptr, /*mask_mod=*/nullptr, /*weight_mod=*/nullptr,
            /*key_range=*/nullptr,
            /*band_lower=*/nullptr, /*band_upper=*/nullptr, /*seed=*/nullptr);
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// OnlineAttentionOp
//===----------------------------------------------------------------------===//

def Attn_OnlineAttentionOp : Attn_Op<"online_attention",
    [AttrSizedOperandSegments, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "attention whose score needs no matrix product per key";
  let description = [{
    The form `attn.attention` takes after `-attn-decompose-scores` has
    hoisted every matrix-vector product of the score out of the key loop.
    Same operands, layouts, masks and semantics as `attn.attention`, with the
    score given by `combine`:

    - `dot`: act(scale * q.k + bias) (scale defaults to 1, bias to 0);
    - `additive`: sum_d w_d act(q_d + k_d), with `score_weights` w [Dw] or
      [Hq, Dw] (q and k already hold W1 q + b and W2 k);
    - `cosine`: q.k / (|q| |k|), 0 when a norm is 0;
    - `multidim_additive`: W_d act(q + k), a vector of Dv with `score_weights`
      W_d [Dv, Dw]: one softmax over the keys per value feature. It has no
      tiled form: `-convert-attn-to-loops` lowers it directly
      (AttnToLoops/MultiDimensional.cpp);
    - `neg_sq_euclidean`: -|q - k|^2.

    `align` as in `attn.attention`, printed only when not softmax.

    `-attn-tile-attention` rewrites it into its tiled form (query tiles in
    an `scf.parallel`, key tiles in an `scf.for` carrying a running maximum
    and sum, the tile-level ops below as the body), which
    `-convert-attn-to-loops` lowers to loops, never materializing the
    Nq x Nk scores.

    ```mlir
    attn.online_attention dot act(identity) causal
        ins(%q, %k, %v : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>,
                         memref<?x4x?x16xf32>)
        scale(%s : f32)
        outs(%c : memref<?x?x4x16xf32>)
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [4]>, "queries [B, Hq, Nq, D]", [MemRead]>:$query,
    Arg<MemRefRankOf<[F32], [4]>, "keys [B, Hk, Nk, D]", [MemRead]>:$keys,
    Arg<MemRefRankOf<[F32], [4]>, "values [B, Hv, Nk, Dv]", [MemRead]>:$values,
    Arg<Optional<MemRefRankOf<[F32], [1, 2]>>, "w of the additive score",
        [MemRead]>:$score_weights,
    Optional<F32>:$scale,
    Optional<F32>:$bias,
    Arg<Optional<MemRefRankOf<[I32], [1]>>, "valid keys per batch entry",
        [MemRead]>:$lengths,
    Arg<Optional<MemRefRankOf<[I32], [1]>>, "prefix keys per batch entry",
        [MemRead]>:$prefix,
    Variadic<Index>:$mod_sizes,
    Arg<Variadic<AnyMemRef>, "tables of the modifiers", [MemRead]>:$mod_tables,
    Arg<MemRefRankOf<[F32], [4]>, "context [B, Nq, Hq, Dv]", [MemWrite]>:$output,
    Arg<Optional<MemRefRankOf<[F32], [4]>>, "weights [B, Hq, Nq, Nk]",
        [MemWrite]>:$weights,
    Arg<Optional<MemRefRankOf<[F32], [3]>>, "log-sum-exp [B, Hq, Nq]",
        [MemWrite]>:$lse,
    Attn_ScoreCombine:$combine,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    UnitAttr:$causal,
    OptionalAttr<I64Attr>:$causal_offset,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<FlatSymbolRefAttr>:$score_mod,
    OptionalAttr<FlatSymbolRefAttr>:$mask_mod,
    OptionalAttr<FlatSymbolRefAttr>:$weight_mod,
    OptionalAttr<FlatSymbolRefAttr>:$key_range,
    OptionalAttr<I64Attr>:$band_lower,
    OptionalAttr<I64Attr>:$band_upper,
    DefaultValuedAttr<Attn_AlignKind, "::mlir::attn::AlignKind::softmax">:$align,
    OptionalAttr<I64Attr>:$seed);
  let assemblyFormat = [{
    $combine (`act` `(` $act^ `)`)? (`align` `(` $align^ `)`)?
    (`seed` `(` $seed^ `)`)?
    (`causal` $causal^)?
    (`causal_offset` `(` $causal_offset^ `)`)? (`window` `(` $window^ `)`)?
    (`band_lower` `(` $band_lower^ `)`)? (`band_upper` `(` $band_upper^ `)`)?
    (`score_mod` `(` $score_mod^ `)`)? (`mask_mod` `(` $mask_mod^ `)`)?
    (`weight_mod` `(` $weight_mod^ `)`)? (`key_range` `(` $key_range^ `)`)?
    `ins` `(` $query `,` $keys `,` $values `:` type($query) `,` type($keys) `,`
              type($values) `)`
    (`score_weights` `(` $score_weights^ `:` type($score_weights) `)`)?
    (`scale` `(` $scale^ `)`)?
    (`bias` `(` $bias^ `)`)?
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    (`prefix` `(` $prefix^ `:` type($prefix) `)`)?
    (`mod_sizes` `(` $mod_sizes^ `)`)?
    (`mod_tables` `(` $mod_tables^ `:` type($mod_tables) `)`)?
    `outs` `(` $output `:` type($output) `)`
    (`weights` `(` $weights^ `:` type($weights) `)`)?
    (`lse` `(` $lse^ `:` type($lse) `)`)?
    attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Tile-level ops (the tiled form of -attn-tile-attention)
//===----------------------------------------------------------------------===//

// The running state of a query tile of QT queries: the maximum and the sum
// ([QT]) and the accumulator ([QT, Dv]), as values (vectors, carried by the
// key loop) or as buffers (memrefs, updated in place).
def Attn_TileRowState : AnyTypeOf<[VectorOfRankAndType<[1], [F32]>,
                                   MemRefRankOf<[F32], [1]>]>;
def Attn_TileAccumulator : AnyTypeOf<[VectorOfRankAndType<[2], [F32]>,
                                      MemRefRankOf<[F32], [2]>]>;

def Attn_OnlineSoftmaxUpdateOp : Attn_Op<"online_softmax_update",
    [AttrSizedOperandSegments, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "one key tile's step of the online softmax for a query tile";
  let description = [{
    The body of the key loop of the tiled form. For the QT queries
    `first_query + r` (r < QT, rows past the last query clamped to it) of
    batch entry `query_batch` and head `head`, and the keys
    `first_key + j` (j < `key_tile`, j < `key_end` - `first_key`) of
    `keys[key_batch, key_head]` and `values[value_batch, value_head]`:

        s_rj = score(q_r, k_j), -inf where masked
        m'_r = max(m_r, max_j s_rj)
        l'_r = exp(m_r - m'_r) l_r + sum_j exp(s_rj - m'_r)
        acc'_r = exp(m_r - m'_r) acc_r + sum_j exp(s_rj - m'_r) v_j

    The score is that of `attn.online_attention` (`combine`, `act`, `scale`,
    `bias`, `score_weights`, per head when of rank 2). Key j is masked for
    query row i when j >= `key_end` (the keys of this batch entry, from the
    `lengths` mask) or, with `causal`, when j > i + Nk - Nq (+
    `causal_offset`) unless j < `prefix_end`, or, with `window(W)`, when
    j <= i + Nk - Nq - W or j > i + Nk - Nq.

    With `align(sigmoid)` the step is instead m' = m, l' = 1 (once a tile
    was seen, so that `attn.tile_finalize` writes acc) and acc'_r = acc_r +
    sum_j sigmoid(s_rj) v_j. With `align(argmax)`: with j* the first j of
    the tile with s_rj > m_r (none: the state is unchanged), m'_r = s_rj*,
    l'_r = 1 and acc'_r = v_j*; the first maximum over all tiles wins.
    With `align(hard) seed(S)`, the same on s_rj + g(S, sample_batch, head,
    i, j) (Gumbel noise; `sample_batch` is the batch entry of the output).
    With `score_mod(@f)`, s_rj is f(s_rj, sample_batch, head, i, j,
    mod_sizes, mod_tables) before the masks; `mask_mod(@p)` masks key j
    where p(sample_batch, head, i, j, ...) is false; `weight_mod(@g)`
    multiplies each p_rj of the weighted sum (not of the sum l) by
    g(sample_batch, head, i, j, ...); `band_lower(a)` /
    `band_upper(c)` mask keys outside [i + a, i + c].

    With `key_row(%r)`, `keys` holds only the tile's keys: key
    `first_key + j` is row `r + j` of `keys[key_batch, key_head]` (the
    masks and the values still count keys from `first_key`, and the key
    count Nk is the values'). `-attn-fuse-key-projections` computes a
    tile's projected keys into such a buffer inside the key loop.

    With `scores_out` (a softmax; `sample_batch` gives its batch entry),
    the step also writes s_rj, for every key of the tile that row r sees,
    at scores_out[sample_batch, head, i, j]: the tiled form passes the
    weights output, which `attn.tile_weights` with `scores_stored` then
    normalizes in place instead of computing the scores again. What it
    writes at the keys a row does not see is unspecified.

    The state (`max`, `sum` [QT], `acc` [QT, Dv]) is either three vectors,
    and the op returns the new state, or three memrefs updated in place,
    and the op returns nothing. How the step is computed (one query at a
    time, or a register block of queries against panels of keys) is the
    choice of the kernel patterns of `-convert-attn-to-loops`.

    ```mlir
    %m1, %l1, %acc1 = attn.online_softmax_update dot causal key_tile(64)
        query(%q[%b, %h, %i0] : memref<2x4x?x8xf32>)
        keys(%k[%b, %hk, %j0] : memref<2x2x?x8xf32>)
        values(%v[%b, %hk] : memref<2x2x?x4xf32>)
        scale(%s) key_end(%visible)
        state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
        -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [4]>, "queries [B, Hq, Nq, D]", [MemRead]>:$query,
    Index:$query_batch, Index:$head, Index:$first_query,
    Arg<MemRefRankOf<[F32], [4]>, "keys [B, Hk, Nk, D]", [MemRead]>:$keys,
    Index:$key_batch, Index:$key_head, Index:$first_key,
    Optional<Index>:$key_row,
    Arg<MemRefRankOf<[F32], [4]>, "values [B, Hv, Nk, Dv]", [MemRead]>:$values,
    Index:$value_batch, Index:$value_head,
    Arg<Optional<MemRefRankOf<[F32], [1, 2]>>, "w of the additive score",
        [MemRead]>:$score_weights,
    Optional<F32>:$scale,
    Optional<F32>:$bias,
    Index:$key_end,
    Optional<Index>:$prefix_end,
    Variadic<Index>:$mod_sizes,
    Arg<Variadic<AnyMemRef>, "tables of the modifiers", [MemRead]>:$mod_tables,
    Arg<Attn_TileRowState, "running maximum", [MemRead, MemWrite]>:$max,
    Arg<Attn_TileRowState, "running sum", [MemRead, MemWrite]>:$sum,
    Arg<Attn_TileAccumulator, "accumulator", [MemRead, MemWrite]>:$acc,
    Optional<Index>:$sample_batch,
    Arg<Optional<MemRefRankOf<[F32], [4]>>,
        "the scores written out [B, Hq, Nq, Nk]", [MemWrite]>:$scores_out,
    Attn_ScoreCombine:$combine,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    UnitAttr:$causal,
    ConfinedAttr<I64Attr, [IntPositive]>:$key_tile,
    OptionalAttr<I64Attr>:$causal_offset,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<FlatSymbolRefAttr>:$score_mod,
    OptionalAttr<FlatSymbolRefAttr>:$mask_mod,
    OptionalAttr<FlatSymbolRefAttr>:$weight_mod,
    OptionalAttr<I64Attr>:$band_lower,
    OptionalAttr<I64Attr>:$band_upper,
    DefaultValuedAttr<Attn_AlignKind, "::mlir::attn::AlignKind::softmax">:$align,
    OptionalAttr<I64Attr>:$seed);
  let results = (outs Variadic<AnyVectorOfAnyRank>:$new_state);
  let assemblyFormat = [{
    $combine (`act` `(` $act^ `)`)? (`align` `(` $align^ `)`)?
    (`seed` `(` $seed^ `)`)?
    (`causal` $causal^)?
    (`causal_offset` `(` $causal_offset^ `)`)? (`window` `(` $window^ `)`)?
    (`band_lower` `(` $band_lower^ `)`)? (`band_upper` `(` $band_upper^ `)`)?
    (`score_mod` `(` $score_mod^ `)`)? (`mask_mod` `(` $mask_mod^ `)`)?
    (`weight_mod` `(` $weight_mod^ `)`)?
    `key_tile` `(` $key_tile `)`
    `query` `(` $query `[` $query_batch `,` $head `,` $first_query `]` `:`
        type($query) `)`
    `keys` `(` $keys `[` $key_batch `,` $key_head `,` $first_key `]` `:`
        type($keys) `)`
    (`key_row` `(` $key_row^ `)`)?
    `values` `(` $values `[` $value_batch `,` $value_head `]` `:`
        type($values) `)`
    (`score_weights` `(` $score_weights^ `:` type($score_weights) `)`)?
    (`scale` `(` $scale^ `)`)?
    (`bias` `(` $bias^ `)`)?
    `key_end` `(` $key_end `)`
    (`prefix_end` `(` $prefix_end^ `)`)?
    (`mod_sizes` `(` $mod_sizes^ `)`)?
    (`mod_tables` `(` $mod_tables^ `:` type($mod_tables) `)`)?
    (`sample_batch` `(` $sample_batch^ `)`)?
    (`scores_out` `(` $scores_out^ `:` type($scores_out) `)`)?
    `state` `(` $max `,` $sum `,` $acc `:` type($max) `,` type($sum) `,`
        type($acc) `)`
    attr-dict (`->` type($new_state)^)?
  }];
  let extraClassDeclaration = [{
    /// Whether the state is carried as vector values (else as buffers).
    bool hasValueState() { return isa<VectorType>(getMax().getType()); }
    /// QT, the queries of the tile.
    int64_t getQueryTileSize() {
      return cast<ShapedType>(getMax().getType()).getDimSize(0);
    }
  }];
  let hasVerifier = 1;
}

def Attn_TileFinalizeOp : Attn_Op<"tile_finalize",
    [AttrSizedOperandSegments]> {
  let summary = "writes a query tile's context: acc / sum";
  let description = [{
    For each row r of a query tile (query `first_query + r`, clamped to the
    last query), writes `output[batch, first_query + r, head, :] =
    acc[r] / sum[r]`, or 0 when the query saw no key (sum = 0). With
    `lse(%max) into(%lse)`, also writes the log-sum-exp of the row's
    scores from the online softmax's state, `lse[batch, head, first_query
    + r] = max[r] + log(sum[r])`, or -inf when sum = 0.

    ```mlir
    attn.tile_finalize ins(%l, %acc : vector<4xf32>, vector<4x4xf32>)
        outs(%c[%b, %i0, %h] : memref<2x?x4x4xf32>)
    ```
  }];
  let arguments = (ins
    Arg<Attn_TileRowState, "running sum", [MemRead]>:$sum,
    Arg<Attn_TileAccumulator, "accumulator", [MemRead]>:$acc,
    Arg<MemRefRankOf<[F32], [4]>, "context [B, Nq, Hq, Dv]", [MemWrite]>:$output,
    Index:$batch, Index:$first_query, Index:$head,
    Arg<Optional<Attn_TileRowState>, "running maximum", [MemRead]>:$max,
    Arg<Optional<MemRefRankOf<[F32], [3]>>, "log-sum-exp [B, Hq, Nq]",
        [MemWrite]>:$lse);
  let assemblyFormat = [{
    `ins` `(` $sum `,` $acc `:` type($sum) `,` type($acc) `)`
    `outs` `(` $output `[` $batch `,` $first_query `,` $head `]` `:`
        type($output) `)`
    (`lse` `(` $max^ `:` type($max) `)` `into` `(` $lse `:` type($lse) `)`)?
    attr-dict
  }];
  let hasVerifier = 1;
}

def Attn_TileWeightsOp : Attn_Op<"tile_weights", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "writes a query tile's attention weights over all keys";
  let description = [{
    The optional second pass of the tiled form: for each row r of a query
    tile (clamped as in `attn.online_softmax_update`) and every key j,
    writes `weights[batch, head, first_query + r, j] =
    exp(s_rj - max[r]) / sum[r]`, recomputing the score, or 0 where the key
    is masked (same masks as `attn.online_softmax_update`) or the sum is 0.
    With `align(sigmoid)`, sigmoid(s_rj) (the state is not read); with
    `align(argmax)`, 1 at the first visible j with s_rj = max[r] (when the
    sum is not 0), else 0; `align(hard)` the same with the Gumbel noise of
    `attn.online_softmax_update` added to s_rj (keyed by `batch`). With
    `scores_stored` (a softmax), the key loop's `attn.online_softmax_update`
    wrote the scores of the keys each row sees into `weights`
    (`scores_out`): a kernel may read s_rj there rather than compute it
    again (the generic loops compute it again when they have the keys).
    The keys may then be left out (they must be given otherwise): the
    kernels read the stored scores, and the key count Nk is the weights'.
    `-attn-fuse-key-projections` leaves them out when it moves the
    projection that made them into the key loop.

    ```mlir
    attn.tile_weights additive
        query(%q[%b, %h, %i0] : memref<?x?x?x?xf32>)
        keys(%k[%b, %hk] : memref<?x?x?x?xf32>)
        score_weights(%w : memref<?xf32>) key_end(%visible)
        state(%m, %l : memref<4xf32>, memref<4xf32>)
        outs(%a[%b] : memref<?x?x?x?xf32>)
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [4]>, "queries [B, Hq, Nq, D]", [MemRead]>:$query,
    Index:$query_batch, Index:$head, Index:$first_query,
    Arg<Optional<MemRefRankOf<[F32], [4]>>, "keys [B, Hk, Nk, D]",
        [MemRead]>:$keys,
    Optional<Index>:$key_batch, Optional<Index>:$key_head,
    Arg<Optional<MemRefRankOf<[F32], [1, 2]>>, "w of the additive score",
        [MemRead]>:$score_weights,
    Optional<F32>:$scale,
    Optional<F32>:$bias,
    Index:$key_end,
    Optional<Index>:$prefix_end,
    Variadic<Index>:$mod_sizes,
    Arg<Variadic<AnyMemRef>, "tables of the modifiers", [MemRead]>:$mod_tables,
    Arg<Attn_TileRowState, "final maximum", [MemRead]>:$max,
    Arg<Attn_TileRowState, "final sum", [MemRead]>:$sum,
    Arg<MemRefRankOf<[F32], [4]>, "weights [B, Hq, Nq, Nk]",
        [MemRead, MemWrite]>:$weights,
    Index:$batch,
    UnitAttr:$scores_stored,
    Attn_ScoreCombine:$combine,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    UnitAttr:$causal,
    OptionalAttr<I64Attr>:$causal_offset,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<FlatSymbolRefAttr>:$score_mod,
    OptionalAttr<FlatSymbolRefAttr>:$mask_mod,
    OptionalAttr<FlatSymbolRefAttr>:$weight_mod,
    OptionalAttr<I64Attr>:$band_lower,
    OptionalAttr<I64Attr>:$band_upper,
    DefaultValuedAttr<Attn_AlignKind, "::mlir::attn::AlignKind::softmax">:$align,
    OptionalAttr<I64Attr>:$seed);
  let assemblyFormat = [{
    $combine (`act` `(` $act^ `)`)? (`align` `(` $align^ `)`)?
    (`seed` `(` $seed^ `)`)?
    (`scores_stored` $scores_stored^)?
    (`causal` $causal^)?
    (`causal_offset` `(` $causal_offset^ `)`)? (`window` `(` $window^ `)`)?
    (`band_lower` `(` $band_lower^ `)`)? (`band_upper` `(` $band_upper^ `)`)?
    (`score_mod` `(` $score_mod^ `)`)? (`mask_mod` `(` $mask_mod^ `)`)?
    (`weight_mod` `(` $weight_mod^ `)`)?
    `query` `(` $query `[` $query_batch `,` $head `,` $first_query `]` `:`
        type($query) `)`
    (`keys` `(` $keys^ `[` $key_batch `,` $key_head `]` `:` type($keys) `)`)?
    (`score_weights` `(` $score_weights^ `:` type($score_weights) `)`)?
    (`scale` `(` $scale^ `)`)?
    (`bias` `(` $bias^ `)`)?
    `key_end` `(` $key_end `)`
    (`prefix_end` `(` $prefix_end^ `)`)?
    (`mod_sizes` `(` $mod_sizes^ `)`)?
    (`mod_tables` `(` $mod_tables^ `:` type($mod_tables) `)`)?
    `state` `(` $max `,` $sum `:` type($max) `,` type($sum) `)`
    `outs` `(` $weights `[` $batch `]` `:` type($weights) `)` attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Sparse alignments (sparsemax, 1.5-entmax): the tiled form's second key
// loop structure. Code: SparseAlignments.cpp (lowering), TileSparse.cpp
// (tiling).
//===----------------------------------------------------------------------===//

def Attn_TileScoresOp : Attn_Op<"tile_scores", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "stores one key tile's scores of a query tile into its row buffer";
  let description = [{
    The body of the key loop of a sparse alignment's tiled form. For the QT
    queries `first_query + r` (clamped to the last query) and the keys
    `first_key + j` (j < `key_tile`) that query row r sees (the masks of
    `attn.online_softmax_update`: `key_end`, `causal`, `causal_offset`,
    `window`, `prefix_end`), writes `scores[r, first_key + j] =
    score(q_r, k_j)` (the score of `attn.online_softmax_update`). Masked
    keys are not written: `attn.tile_sparse_align` reads only the keys each
    row sees. `scores` is [QT, Nk], the whole rows of the query tile.

    ```mlir
    attn.tile_scores dot causal key_tile(64)
        query(%q[%b, %h, %i0] : memref<2x4x?x8xf32>)
        keys(%k[%b, %hk, %j0] : memref<2x2x?x8xf32>)
        scale(%s) key_end(%visible) outs(%scores : memref<4x?xf32>)
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [4]>, "queries [B, Hq, Nq, D]", [MemRead]>:$query,
    Index:$query_batch, Index:$head, Index:$first_query,
    Arg<MemRefRankOf<[F32], [4]>, "keys [B, Hk, Nk, D]", [MemRead]>:$keys,
    Index:$key_batch, Index:$key_head, Index:$first_key,
    Arg<Optional<MemRefRankOf<[F32], [1, 2]>>, "w of the additive score",
        [MemRead]>:$score_weights,
    Optional<F32>:$scale,
    Optional<F32>:$bias,
    Index:$key_end,
    Optional<Index>:$prefix_end,
    Variadic<Index>:$mod_sizes,
    Arg<Variadic<AnyMemRef>, "tables of the modifiers", [MemRead]>:$mod_tables,
    Optional<Index>:$sample_batch,
    Arg<MemRefRankOf<[F32], [2]>, "scores [QT, Nk]", [MemWrite]>:$scores,
    Attn_ScoreCombine:$combine,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    UnitAttr:$causal,
    ConfinedAttr<I64Attr, [IntPositive]>:$key_tile,
    OptionalAttr<I64Attr>:$causal_offset,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<FlatSymbolRefAttr>:$score_mod,
    OptionalAttr<FlatSymbolRefAttr>:$mask_mod,
    OptionalAttr<FlatSymbolRefAttr>:$weight_mod,
    OptionalAttr<I64Attr>:$band_lower,
    OptionalAttr<I64Attr>:$band_upper);
  let assemblyFormat = [{
    $combine (`act` `(` $act^ `)`)?
    (`causal` $causal^)?
    (`causal_offset` `(` $causal_offset^ `)`)? (`window` `(` $window^ `)`)?
    (`band_lower` `(` $band_lower^ `)`)? (`band_upper` `(` $band_upper^ `)`)?
    (`score_mod` `(` $score_mod^ `)`)? (`mask_mod` `(` $mask_mod^ `)`)?
    `key_tile` `(` $key_tile `)`
    `query` `(` $query `[` $query_batch `,` $head `,` $first_query `]` `:`
        type($query) `)`
    `keys` `(` $keys `[` $key_batch `,` $key_head `,` $first_key `]` `:`
        type($keys) `)`
    (`score_weights` `(` $score_weights^ `:` type($score_weights) `)`)?
    (`scale` `(` $scale^ `)`)?
    (`bias` `(` $bias^ `)`)?
    `key_end` `(` $key_end `)`
    (`prefix_end` `(` $prefix_end^ `)`)?
    (`mod_sizes` `(` $mod_sizes^ `)`)?
    (`mod_tables` `(` $mod_tables^ `:` type($mod_tables) `)`)?
    (`sample_batch` `(` $sample_batch^ `)`)?
    `outs` `(` $scores `:` type($scores) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Attn_TileSparseAlignOp : Attn_Op<"tile_sparse_align",
    [AttrSizedOperandSegments]> {
  let summary = "a query tile's sparsemax / 1.5-entmax over its stored scores";
  let description = [{
    For each row r of a query tile (query i = `first_query + r`, clamped to
    the last query), over the keys l the row sees (masks as in
    `attn.tile_scores`) with z_l = `scores[r, l]`:

        sparsemax: p_l = max(z_l - tau, 0)
        entmax15:  p_l = max(z_l / 2 - tau, 0)^2     (1.5-entmax)

    with tau the threshold that makes sum_l p_l = 1; writes `output[batch,
    i, head, :] = sum_l p_l v_l` (values `[value_batch, value_head]`) and,
    with `weights`, `weights[batch, head, i, l] = p_l` (0 for the keys the
    row does not see and off the support, exactly). A row that sees no key,
    or whose visible scores are all -inf or NaN, gets a zero context and
    zero weights; -inf and NaN scores get p = 0.

    The threshold, per row, in f32 on z' = z - max z (sparsemax) or
    z' = (z - max z) / 2 (entmax15), so that tau lies in [-1, 0) (the
    largest p is at most 1) and the support's sums are small numbers:
    bisection of [-1, 0) on f(tau) = sum_l phi(z'_l - tau) >= 1 (30 passes
    over the row, to below f32 resolution), then one exact recomputation on
    the support S = {l : z'_l > lo} found: sparsemax tau = (sum_S z' - 1) /
    |S|, entmax15 tau = mean_S - sqrt(max(0, (1 - ss_S) / |S|)) with ss_S =
    sum_S (z' - mean_S)^2 (the closed forms of Martins & Astudillo 2016 and
    Peters et al. 2019 on a known support); finally p is divided by its sum,
    which makes the weights sum to 1 to f32 rounding. Cost per row: about 34
    passes over the n visible scores (max, bisection, support, weights) plus
    one value row per key of the support; no sort. Memory: `scores` is the
    QT x Nk buffer that the tiled form allocates per parallel iteration.

    ```mlir
    attn.tile_sparse_align sparsemax causal
        scores(%scores : memref<4x?xf32>)
        values(%v[%b, %hv] : memref<2x2x?x4xf32>) key_end(%visible)
        outs(%c[%b, %i0, %h] : memref<2x?x4x4xf32>)
        weights(%a : memref<2x4x?x?xf32>)
    ```
  }];
  let arguments = (ins
    Arg<MemRefRankOf<[F32], [2]>, "scores [QT, Nk]", [MemRead]>:$scores,
    Arg<MemRefRankOf<[F32], [4]>, "values [B, Hv, Nk, Dv]", [MemRead]>:$values,
    Index:$value_batch, Index:$value_head,
    Index:$key_end,
    Optional<Index>:$prefix_end,
    Arg<MemRefRankOf<[F32], [4]>, "context [B, Nq, Hq, Dv]", [MemWrite]>:$output,
    Index:$batch, Index:$first_query, Index:$head,
    Arg<Optional<MemRefRankOf<[F32], [4]>>, "weights [B, Hq, Nq, Nk]",
        [MemWrite]>:$weights,
    Attn_AlignKind:$align,
    UnitAttr:$causal,
    OptionalAttr<I64Attr>:$causal_offset,
    OptionalAttr<I64Attr>:$window,
    OptionalAttr<I64Attr>:$band_lower,
    OptionalAttr<I64Attr>:$band_upper);
  let assemblyFormat = [{
    $align
    (`causal` $causal^)?
    (`causal_offset` `(` $causal_offset^ `)`)? (`window` `(` $window^ `)`)?
    (`band_lower` `(` $band_lower^ `)`)? (`band_upper` `(` $band_upper^ `)`)?
    `scores` `(` $scores `:` type($scores) `)`
    `values` `(` $values `[` $value_batch `,` $value_head `]` `:`
        type($values) `)`
    `key_end` `(` $key_end `)`
    (`prefix_end` `(` $prefix_end^ `)`)?
    `outs` `(` $output `[` $batch `,` $first_query `,` $head `]` `:`
        type($output) `)`
    (`weights` `(` $weights^ `:` type($weights) `)`)?
    attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Output model
//===----------------------------------------------------------------------===//

def Attn_ActivationOp : Attn_DpsOp<"activation"> {
  let summary = "an elementwise activation (output model)";
  let description = [{
    `output = act(input)` elementwise; `input` and `output` may be the same
    buffer.

    ```mlir
    attn.activation tanh ins(%y : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
    ```
  }];
  let arguments = (ins
    Attn_Activation:$kind,
    Attn_AnyShapedFloat:$input,
    Attn_AnyShapedFloat:$output);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $kind `ins` `(` $input `:` type($input) `)`
    `outs` `(` $output `:` type($output) `)` attr-dict
    (`->` type($results)^)?
  }];
  let builders = [
    OpBuilder<(ins "Activation":$kind, "Value":$input, "Value":$output), [{
      build($_builder, $_state, ::mlir::attn::initResultTypes(output), kind,
            input, output);
    }]>
  ];
  let hasVerifier = 1;
}

def Attn_SoftmaxOp : Attn_DpsOp<"softmax"> {
  let summary = "softmax over the last dimension (output model, eq. 5)";
  let description = [{
    `output[..., j] = exp(input[..., j] - m) / sum_k exp(input[..., k] - m)`
    with m the row maximum; `input` and `output` may be the same buffer.

    ```mlir
    attn.softmax ins(%y : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
    ```
  }];
  let arguments = (ins
    Attn_Shaped<[AnyFloat], [1, 2, 3, 4]>:$input,
    Attn_Shaped<[AnyFloat], [1, 2, 3, 4]>:$output);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)`
    `outs` `(` $output `:` type($output) `)` attr-dict
    (`->` type($results)^)?
  }];
  let builders = [
    OpBuilder<(ins "Value":$input, "Value":$output), [{
      build($_builder, $_state, ::mlir::attn::initResultTypes(output), input,
            output);
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// LanewiseCallOp
//===----------------------------------------------------------------------===//

def Attn_LanewiseCallOp : Attn_Op<"lanewise_call",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a scalar function applied to each lane of vectors";
  let description = [{
    `result[k] = callee(x_0[k], ..., x_n[k])` for each lane k of the 1-D
    result, where an operand of the callee's own (scalar) type is the same
    for every lane and an operand `vector<L x T>` gives lane k its element k.
    The kernels of attn-to-loops use it for the score modifiers and mask
    predicates of a vector of keys (the scalar functions of `score_mod` /
    `mask_mod`); attn-expand-lanewise-calls replaces it by the callee's body
    on vectors, or by one call per lane where the body does not vectorize.
    The callee may read memory (the modifiers' tables) and must not write.

    ```mlir
    %s = attn.lanewise_call @score(%e, %b, %h, %i, %l)
        : (vector<16xf32>, index, index, index, vector<16xindex>)
        -> vector<16xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee,
                       Variadic<AnyType>:$args);
  let results = (outs VectorOfRank<[1]>:$result);
  let assemblyFormat = [{
    $callee `(` $args `)` attr-dict `:` functional-type($args, $result)
  }];
}

def Attn_ThreadCountOp : Attn_Op<"thread_count", [Pure]> {
  let summary = "the number of threads the tiled form's parallel loops run on";
  let description = [{
    The number of threads a parallel loop of this call will be shared by,
    at least 1: -attn-tile-attention sizes its query groups with it so that
    the threads, which take the groups in turn, get the same number of
    query tiles. It changes how the work is divided, never what a tile
    computes (results do not depend on it). -attn-lower-thread-count makes
    it `omp_get_max_threads()` where the parallel loops run on OpenMP
    (OMP_NUM_THREADS) and 1 where they run serially.

    ```mlir
    %t = attn.thread_count : index
    ```
  }];
  let results = (outs Index:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

#endif // ATTN_OPS_TD
