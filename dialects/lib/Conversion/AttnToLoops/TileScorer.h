//===- TileScorer.h - The generic kernel's scores, for other kernels -*- C++ -*-===//
//
// score(q_i, k_j) as the generic kernel computes it (emitScore in
// TileKernels.cpp: every combine, vector or scalar form), for the kernels
// of other files (SparseAlignments.cpp), so that a score has one lowering.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CONVERSION_ATTNTOLOOPS_TILESCORER_H
#define ATTN_LIB_CONVERSION_ATTNTOLOOPS_TILESCORER_H

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

#include <memory>

namespace mlir::attn {
struct TargetDescription;

namespace loops {

/// The scores of an attn.tile_scores op: q, k, w in vectors when their
/// sizes allow (the target's limit), scalar loops otherwise.
class TileScorer {
public:
  TileScorer(Emitter &e, TileScoresOp op, const TargetDescription &target);
  ~TileScorer();
  /// Points the scorer at query row `i` (loads q_i).
  void setQueryRow(Value i);
  /// score(q_i, k_j), before masking.
  Value score(Value j);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace loops
} // namespace mlir::attn

#endif // ATTN_LIB_CONVERSION_ATTNTOLOOPS_TILESCORER_H
