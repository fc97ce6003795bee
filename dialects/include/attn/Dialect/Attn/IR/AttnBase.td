//===- AttnBase.td - The attn dialect and its enums ---------*- tablegen -*-===//
//
// The attn dialect keeps the structure of the general attention model of
// Brauwers & Frasincar (TKDE 2021) visible in the IR: linear maps (feature,
// query, key, value and output models), one structured attention op that
// carries the score function with its parameters, the alignment and the
// masks, and the output model's activations.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BASE_TD
#define ATTN_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention models after Brauwers & Frasincar's general model";
  let description = [{
    Ops of this dialect work on memrefs in destination-passing style: inputs
    are read, results are written into `outs` operands. Tensors are laid out
    with one row per vector (`[batch, n, d]`; with heads `[batch, heads, n,
    d]`), i.e. the transpose of the survey's column convention.

    The high-level `attn.attention` op is decomposed by
    `-attn-decompose-scores` into precomputed projections (`attn.linear`)
    and `attn.online_attention`, which `-attn-tile-attention` tiles (query
    tiles in parallel, key tiles carrying the online-softmax state, the
    tile-level ops `attn.online_softmax_update`, `attn.tile_finalize` and
    `attn.tile_weights`) and `-convert-attn-to-loops` lowers to loops.
  }];
  let dependentDialects = [
    "::mlir::memref::MemRefDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect"
  ];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Attn_ScoreKind : I32EnumAttr<"ScoreKind",
    "score functions of the survey's Table 2", [
      I32EnumAttrCase<"additive", 0>,
      I32EnumAttrCase<"dot", 1>,
      I32EnumAttrCase<"scaled_dot", 2>,
      I32EnumAttrCase<"general", 3>,
      I32EnumAttrCase<"biased_general", 4>,
      I32EnumAttrCase<"activated_general", 5>,
      I32EnumAttrCase<"cosine", 6>,
      // multi-dimensional (survey eqs. 30-32): W_d act(W1 q + W2 k_l + b),
      // one score per value feature
      I32EnumAttrCase<"multidim_additive", 7>,
      I32EnumAttrCase<"neg_sq_euclidean", 8>
    ]> {
  let cppNamespace = "::mlir::attn";
}

// The score forms left after -attn-decompose-scores has hoisted every
// matrix-vector product out of the key loop.
def Attn_ScoreCombine : I32EnumAttr<"ScoreCombine",
    "score evaluated inside the key loop", [
      // act(scale * q.k + bias)
      I32EnumAttrCase<"dot", 0>,
      // sum_d w_d act(q_d + k_d)
      I32EnumAttrCase<"additive", 1>,
      // q.k / (|q| |k|), 0 when a norm is 0
      I32EnumAttrCase<"cosine", 2>,
      // W_d act(q + k) in R^{Dv}: a score per value feature, lowered by
      // AttnToLoops/MultiDimensional.cpp (never tiled)
      I32EnumAttrCase<"multidim_additive", 3>,
      // -|q - k|^2
      I32EnumAttrCase<"neg_sq_euclidean", 4>
    ]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_Activation : I32EnumAttr<"Activation", "activation functions", [
      I32EnumAttrCase<"identity", 0>,
      I32EnumAttrCase<"tanh", 1>,
      I32EnumAttrCase<"relu", 2>,
      I32EnumAttrCase<"sigmoid", 3>
    ]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_AlignKind : I32EnumAttr<"AlignKind", "alignment functions", [
      I32EnumAttrCase<"softmax", 0>,
      I32EnumAttrCase<"sigmoid", 1>,
      I32EnumAttrCase<"argmax", 2>,
      I32EnumAttrCase<"hard", 3>,
      I32EnumAttrCase<"sparsemax", 4>,
      I32EnumAttrCase<"entmax15", 5>
    ]> {
  let cppNamespace = "::mlir::attn";
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

#endif // ATTN_BASE_TD
