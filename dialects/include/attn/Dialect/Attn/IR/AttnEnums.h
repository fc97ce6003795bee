//===- AttnEnums.h - The enums of the attn dialect --------------*- C++ -*-===//
//
// The enums generated from AttnBase.td (score kinds, combines, activations,
// alignments), without the ops: the front end's ModelSpec and the score
// function table use them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNENUMS_H
#define ATTN_DIALECT_ATTN_IR_ATTNENUMS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "attn/Dialect/Attn/IR/AttnEnums.h.inc"

namespace mlir::attn {
/// The alignments that need the whole row of scores (a threshold over the
/// row): sparsemax and 1.5-entmax. They have no online form; the tiled form
/// stores the row (attn.tile_scores) and aligns it (attn.tile_sparse_align).
inline bool isSparseAlign(AlignKind align) {
  return align == AlignKind::sparsemax || align == AlignKind::entmax15;
}
} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_ATTNENUMS_H
