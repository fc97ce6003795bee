//===- AttnOps.td - Operations of the attn dialect ----------*- tablegen -*-===//
//
// The ops that carry an attention model through the compiler. All of them
// are in destination-passing style on memrefs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attn/Dialect/Attn/IR/AttnBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

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
class Attn_DpsOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat(traits, [
        DestinationStyleOpInterface,
        DeclareOpInterfaceMethods<MemoryEffectsOpInterface>])> {
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable();
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

def Attn_AttentionOp : Attn_DpsOp<"attention", [AttrSizedOperandSegments]> {
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
    `weights`, when present, receives a as [B, Hq, Nq, Nk].

    `params` are those of the score function, in the order of the survey's
    Table 2 (a leading H dimension makes a parameter per head):
    additive: W1 [Dw, Dq], W2 [Dw, Dk], b [Dw], w [Dw]; general: W [Dk, Dq];
    biased_general: W, b [Dk]; activated_general: W, b (rank 0 or [1]);
    dot, scaled_dot, cosine: none. `act` is the activation of additive and
    activated_general.

    Masks: `causal` lets query i see key l iff l <= i + Nk - Nq;
    `lengths` [B] (i32) lets batch entry b see keys l < lengths[b]. A query
    that sees no key gets a zero context and zero weights.

    Example (Bahdanau):

    ```mlir
    attn.attention additive act(tanh) align(softmax)
        ins(%q, %k, %v : memref<?x1x1x32xf32>, memref<?x1x?x64xf32>,
                         memref<?x1x?x64xf32>)
        params(%W1, %W2, %b, %w : memref<48x32xf32>, memref<48x64xf32>,
                                  memref<48xf32>, memref<48xf32>)
        outs(%c : memref<?x1x1x64xf32>)
    ```
  }];
  let arguments = (ins
    Attn_Shaped<[AnyFloat], [4]>:$query,
    Attn_Shaped<[AnyFloat], [4]>:$keys,
    Attn_Shaped<[AnyFloat], [4]>:$values,
    Variadic<Attn_AnyShapedFloat>:$params,
    Optional<Attn_Shaped<[I32], [1]>>:$lengths,
    Attn_Shaped<[AnyFloat], [4]>:$output,
    Optional<Attn_Shaped<[AnyFloat], [4]>>:$weights,
    Attn_ScoreKind:$score,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    DefaultValuedAttr<Attn_AlignKind, "::mlir::attn::AlignKind::softmax">:$align,
    UnitAttr:$causal);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $score (`act` `(` $act^ `)`)? `align` `(` $align `)` (`causal` $causal^)?
    `ins` `(` $query `,` $keys `,` $values `:` type($query) `,` type($keys) `,`
              type($values) `)`
    (`params` `(` $params^ `:` type($params) `)`)?
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    `outs` `(` $output `:` type($output) `)`
    (`weights` `(` $weights^ `:` type($weights) `)`)?
    attr-dict (`->` type($results)^)?
  }];
  let builders = [
    OpBuilder<(ins "Value":$query, "Value":$keys, "Value":$values,
                   "ValueRange":$params, "Value":$lengths, "Value":$output,
                   "Value":$weights, "ScoreKind":$score, "Activation":$act,
                   "AlignKind":$align, "bool":$causal), [{
      build($_builder, $_state,
            ::mlir::attn::initResultTypes({output, weights}), query, keys,
            values, params, lengths, output, weights, score, act, align,
            causal);
    }]>
  ];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// OnlineAttentionOp
//===----------------------------------------------------------------------===//

def Attn_OnlineAttentionOp : Attn_Op<"online_attention",
    [AttrSizedOperandSegments]> {
  let summary = "attention whose score needs no matrix product per key";
  let description = [{
    The form `attn.attention` takes after `-attn-decompose-scores` has
    hoisted every matrix-vector product of the score out of the key loop.
    Same operands, layouts, masks and semantics as `attn.attention`, with the
    score given by `combine`:

    - `dot`: act(scale * q.k + bias) (scale defaults to 1, bias to 0);
    - `additive`: sum_d w_d act(q_d + k_d), with `score_weights` w [Dw] or
      [Hq, Dw] (q and k already hold W1 q + b and W2 k);
    - `cosine`: q.k / (|q| |k|), 0 when a norm is 0.

    `-convert-attn-to-loops` lowers it to one loop nest per query over tiles
    of keys with a running maximum and sum (online softmax), never
    materializing the Nq x Nk scores.

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
    Arg<MemRefRankOf<[F32], [4]>, "context [B, Nq, Hq, Dv]", [MemWrite]>:$output,
    Arg<Optional<MemRefRankOf<[F32], [4]>>, "weights [B, Hq, Nq, Nk]",
        [MemWrite]>:$weights,
    Attn_ScoreCombine:$combine,
    DefaultValuedAttr<Attn_Activation, "::mlir::attn::Activation::identity">:$act,
    UnitAttr:$causal);
  let assemblyFormat = [{
    $combine (`act` `(` $act^ `)`)? (`causal` $causal^)?
    `ins` `(` $query `,` $keys `,` $values `:` type($query) `,` type($keys) `,`
              type($values) `)`
    (`score_weights` `(` $score_weights^ `:` type($score_weights) `)`)?
    (`scale` `(` $scale^ `)`)?
    (`bias` `(` $bias^ `)`)?
    (`lengths` `(` $lengths^ `:` type($lengths) `)`)?
    `outs` `(` $output `:` type($output) `)`
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

#endif // ATTN_OPS_TD
