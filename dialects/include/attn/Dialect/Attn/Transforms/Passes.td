//===- Passes.td - Transformations of the attn dialect ------*- tablegen -*-===//

#ifndef ATTN_TRANSFORMS_PASSES_TD
#define ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnDecomposeScores : Pass<"attn-decompose-scores", "func::FuncOp"> {
  let summary = "Hoist the score's matrix products out of the key loop";
  let description = [{
    Rewrites each `attn.attention` into `attn.linear` ops that precompute
    the parts of the score function that do not depend on the (query, key)
    pair, followed by one `attn.online_attention`:

    | score | precomputed | online score |
    |---|---|---|
    | additive | q' = W1 q + b, k' = W2 k | sum_d w_d act(q'_d + k'_d) |
    | general | q' = W q | q'.k |
    | biased_general | q' = W q + b | q'.k |
    | activated_general | q' = W q | act(q'.k + b) |
    | scaled_dot | - | q.k * (1 / sqrt(Dk)) |
    | dot, cosine | - | unchanged |

    This is what keeps additive attention at O((Nq + Nk) Dw) memory: no
    Nq x Nk x Dw tensor is ever formed. Before:

    ```mlir
    attn.attention general align(softmax)
        ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
        params(%W : memref<16x8xf32>) outs(%c : memref<1x?x1x16xf32>)
    ```

    After:

    ```mlir
    %qw = memref.alloc(%nq) : memref<1x1x?x16xf32>
    attn.linear ins(%q, %W : memref<1x1x?x8xf32>, memref<16x8xf32>)
        outs(%qw : memref<1x1x?x16xf32>)
    attn.online_attention dot ins(%qw, %k, %v : ...) outs(%c : ...)
    memref.dealloc %qw : memref<1x1x?x16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def AttnApproximateMath : Pass<"attn-approximate-math", "func::FuncOp"> {
  let summary = "Replace math.exp and math.tanh by polynomial approximations";
  let description = [{
    Applies MLIR's polynomial approximations (`math` ->
    `arith`) to exp, tanh and the other functions they cover, so that the
    loops of the fused attention that contain them (softmax probabilities,
    tanh of the additive score) vectorize: LLVM cannot vectorize the libm
    calls these functions otherwise become. The approximations are accurate
    to a few ulp in f32. attnc runs it from -O1 up; -O0 keeps libm.

    ```mlir
    %p = math.exp %x : f32
    ```
    becomes a range reduction and a polynomial in `arith` ops
    (`arith.mulf`, `arith.addf`, `arith.fptosi`, `arith.shli`, ...).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::x86vector::X86VectorDialect"];
}

#endif // ATTN_TRANSFORMS_PASSES_TD
