//===- ScalarPrograms.h - Score modifiers and mask predicates as funcs ----===//
//
// The scalar programs of an attention step (ModelSpec.h: `score e[i, l] =
// ...`, `mask [i, l]: ...`) become private func.funcs of the module that
// attn.attention names in `score_mod` / `mask_mod`.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_MLIRGEN_SCALARPROGRAMS_H
#define ATTNC_MLIRGEN_SCALARPROGRAMS_H

#include "attnc/Frontend/ModelSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace attnc {

/// What the functions of one attention step take after the indices: the
/// union of its programs' dynamic sizes and tables.
struct ScalarOperands {
  std::vector<ShapeEntry> dims;
  std::vector<ScalarTable> tables;
  /// Per program (score, mask, weight): where its own dims and tables are
  /// in the lists above.
  std::vector<int> dimSlot[4], tableSlot[4];
};

ScalarOperands collectScalarOperands(const ScalarProgram &score,
                                     const ScalarProgram &mask,
                                     const ScalarProgram &weight,
                                     const ScalarProgram &range);

/// Emits `program` (`which` = 0: the score modifier, `(e: f32, b, h, i, l:
/// index, sizes..., tables...) -> f32`; 1: the mask predicate, the same
/// without e, `-> i1`; 2: the weight factor, without e, `-> f32`; 3: the
/// key range, `(b, h, i, sizes..., tables...) -> (index, index)`) as a
/// private function `name` at the builder's
/// insertion point. `tableTypes` are the types of the tables' values at the
/// call (the function takes each as attn::getModifierTableType of it).
mlir::func::FuncOp emitScalarFunction(mlir::OpBuilder &b, mlir::Location loc,
                                      llvm::StringRef name,
                                      const ScalarProgram &program, int which,
                                      const ScalarOperands &operands,
                                      llvm::ArrayRef<mlir::Type> tableTypes);

} // namespace attnc

#endif // ATTNC_MLIRGEN_SCALARPROGRAMS_H
