//===- Passes.td - Conversions out of the attn dialect ------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToLinalg : Pass<"convert-attn-to-linalg", "func::FuncOp"> {
  let summary = "Lower attn.linear and attn.activation to linalg.generic";
  let description = [{
    `attn.linear` becomes a `linalg.generic` with a reduction over the input
    dimension (a batched matrix product with the head dimension placed by
    its indexing maps; the multiply-add may be reassociated and contracted,
    so that LLVM vectorizes the reduction) and, with a bias, an init from the
    broadcast bias;
    `attn.activation` becomes an elementwise `linalg.generic`.

    ```mlir
    attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>)
        outs(%y : memref<?x?x4xf32>)
    ```
    becomes
    ```mlir
    linalg.fill ins(%zero : f32) outs(%y : memref<?x?x4xf32>)
    linalg.generic {indexing_maps = [(b, n, o, i) -> (b, n, i),
                                     (b, n, o, i) -> (o, i),
                                     (b, n, o, i) -> (b, n, o)],
                    iterator_types = [parallel, parallel, parallel, reduction]}
        ins(%x, %w) outs(%y) { mulf, addf }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def ConvertAttnToLoops : Pass<"convert-attn-to-loops", "func::FuncOp"> {
  let summary = "Lower attn.online_attention to a fused online-softmax loop nest";
  let description = [{
    Each `attn.online_attention` becomes, for every (batch, head, query), one
    loop over tiles of `tile-size` keys that computes the tile's scores into
    a small buffer, updates a running maximum m and sum l (online softmax)
    and rescales and accumulates the weighted values in a [Dv] accumulator:

        m = -inf; l = 0; acc = 0
        for each tile T of visible keys:
          s_j = score(q, k_j)  (j in T);  m' = max(m, max_j s_j)
          alpha = exp(m - m');  l = alpha l + sum_j exp(s_j - m')
          acc = alpha acc + sum_j exp(s_j - m') v_j;  m = m'
        c = l > 0 ? acc / l : 0

    Memory is O(tile-size + Dv) per query: the Nq x Nk score matrix is never
    formed. When D and Dv are static (at most 256) and the buffers
    contiguous, q_i, w and the accumulator are `vector` values kept in
    registers: scores are vector products with a `vector.reduction`, and the
    weighted sum is a `vector.fma` per key; otherwise the loops are scalar
    and the accumulator is a [Dv] buffer.

    A dot score without a weights output (with static D and Dv) takes a
    blocked form, as in FlashAttention: per (batch, head) the keys are
    transposed once into panels of 16 ([ceil(Nk / 16), D, 16]), blocks of 4
    queries score 16 keys at a time with 16-lane FMAs (no horizontal
    reduction), keep their (m, l, acc) in the key loop, and read each value
    row once for the block; masks are a lane-wise select to -inf. Its tile
    is rounded up to a multiple of 16. The extra memory, O(Nk D), is that of
    the keys themselves.
 Masks shrink the key range (causal, lengths) instead of being
    tested per key. When `weights` are requested, a second pass over the
    keys writes exp(s_j - m) / l. `attn.softmax` becomes a three-pass row
    loop (max, sum of exponentials, normalize).
  }];
  let options = [
    Option<"tileSize", "tile-size", "int64_t", /*default=*/"64",
           "number of keys scored per tile of the online softmax (1 to 4096)">,
    Option<"vectorize", "vectorize", "bool", /*default=*/"true",
           "keep q, w and the accumulator in vector registers when D and Dv "
           "are static (at most 256)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertAttnLinearToLoops
    : Pass<"convert-attn-linear-to-loops", "func::FuncOp"> {
  let summary = "Lower static-size attn.linear to vector loops";
  let description = [{
    An attn.linear with static input and output sizes (output at most 256)
    and contiguous operands becomes: W transposed once into W^T [H', I, O],
    then for each block of 4 output rows, 4 vector<O> accumulators (starting
    from the bias) that get x_r[i] * W^T[i, :] for every i: one broadcast
    and O/16 FMAs per row and i, no horizontal reduction, and independent
    FMA chains that share each load of W^T. Rows past the end are clamped to
    the last one. Other attn.linear ops are left for
    -convert-attn-to-linalg.

    ```mlir
    attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<5x8xf32>)
        bias(%b : memref<5xf32>) outs(%y : memref<?x?x5xf32>)
    ```
    becomes
    ```mlir
    %wt = memref.alloc() : memref<1x8x5xf32>      // W^T
    scf.for %b ... { scf.for %n0 = %c0 to %n step %c4 {
      %bias = vector.load %b[%c0] : memref<5xf32>, vector<5xf32>
      %acc:4 = scf.for %i = %c0 to %c8 step %c1 iter_args(...) {
        %row = vector.load %wt[%c0, %i, %c0] : memref<1x8x5xf32>, vector<5xf32>
        %x0 = vector.broadcast (memref.load %x[%b, %n0, %i]) : f32 to vector<5xf32>
        %a0 = vector.fma %x0, %row, %acc0 : vector<5xf32>
        ...
      }
      vector.store %acc#0, %y[%b, %n0, %c0] : memref<?x?x5xf32>, vector<5xf32>
      ...
    } }
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // ATTN_CONVERSION_PASSES_TD
