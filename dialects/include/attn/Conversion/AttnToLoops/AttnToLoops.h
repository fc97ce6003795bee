//===- AttnToLoops.h - Kernel patterns of the tiled form --------*- C++ -*-===//
//
// The rewrite patterns of -convert-attn-to-loops: each lowers one op of the
// tiled form (attn.online_softmax_update, attn.tile_finalize,
// attn.tile_weights) or attn.softmax to scf/vector loops. Several patterns
// may match one op; the most specialized kernel has the highest benefit and
// checks that it applies, the generic per-query loops match everything.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOLOOPS_ATTNTOLOOPS_H
#define ATTN_CONVERSION_ATTNTOLOOPS_ATTNTOLOOPS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::attn {

struct TargetDescription;

/// The generic kernels: per-query loops for attn.online_softmax_update and
/// attn.tile_weights (vectors in registers with a vector state, scalar
/// loops over buffers otherwise), and attn.tile_finalize.
void populateTileKernelPatterns(RewritePatternSet &patterns,
                                const TargetDescription &target);

/// The blocked FlashAttention-style kernel for dot scores with a vector
/// state: the query tile against panels of `target.vectorLanes` transposed
/// keys. Has a higher benefit than the generic update. With `bf16Dots`,
/// Q.K^T and P.V multiply bf16-rounded operands (AVX512-BF16 vdpbf16ps,
/// f32 accumulation); with `amxTiles` too, on the AMX tile unit where the
/// tiles are whole (BlockedAMX.cpp), and elsewhere with vdpbf16ps unless
/// `vectorBF16Dots` is false (f32 products there).
void populateBlockedDotPatterns(RewritePatternSet &patterns,
                                const TargetDescription &target,
                                bool bf16Dots = false, bool amxTiles = false,
                                bool vectorBF16Dots = true);

/// attn.tile_weights (a model's weights output) with a dot or cosine
/// score and the softmax on the blocked kernel's key panels
/// (BlockedWeights.cpp): lane-wide scores and the inline exp, whole-vector
/// stores. Has a higher benefit than the generic weights loops; not taken
/// with `bf16Dots`.
void populateBlockedWeightsPatterns(RewritePatternSet &patterns,
                                    const TargetDescription &target,
                                    bool bf16Dots = false);

/// The sparse alignments' tiled form: attn.tile_scores (scores stored into
/// the query tile's rows) and attn.tile_sparse_align (threshold, context,
/// weights), SparseAlignments.cpp.
void populateSparseAlignmentPatterns(RewritePatternSet &patterns,
                                     const TargetDescription &target);

/// attn.online_attention with a multi-dimensional (per-feature) score ->
/// per-query loops with a running maximum and sum per value feature
/// (MultiDimensional.cpp), in vectors of Dv when the sizes allow. It has no
/// tiled form: a pattern of the tiling stage.
void populateMultiDimensionalPatterns(RewritePatternSet &patterns,
                                      const TargetDescription &target);

/// attn.softmax (output model) -> three row loops.
void populateSoftmaxToLoopsPatterns(RewritePatternSet &patterns);

} // namespace mlir::attn

#endif // ATTN_CONVERSION_ATTNTOLOOPS_ATTNTOLOOPS_H
