//===- AttnOps.h - Operations of the attn dialect ---------------*- C++ -*-===//

#ifndef ATTN_DIALECT_ATTN_IR_ATTNOPS_H
#define ATTN_DIALECT_ATTN_IR_ATTNOPS_H

#include "attn/Dialect/Attn/IR/AttnDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attn/Dialect/Attn/IR/AttnEnums.h"
#include "attn/Dialect/Attn/IR/ScoreFunctions.h"

namespace mlir::attn {
/// The largest magnitude of the masks' distances (causal_offset, window,
/// band_lower, band_upper). The loop bounds add them to a query index,
/// which is below 2^62 whenever the tensors fit in memory (the runtime
/// refuses byte sizes past int64), so the sums stay within int64.
inline constexpr int64_t kMaxMaskDistance = int64_t(1) << 62;

/// The result types of a destination-passing op with these inits: the
/// types of the tensor inits (none on memrefs). Null inits are skipped.
SmallVector<Type> initResultTypes(ArrayRef<Value> inits);

/// The memory effects of a destination-passing op: reads of its memref
/// inputs, writes of its memref inits, nothing on tensors.
void getDpsMemoryEffects(
    DestinationStyleOpInterface op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects);
} // namespace mlir::attn

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/IR/AttnOps.h.inc"

namespace mlir::attn {
/// Builds act(x) for a scalar f32 `x`: the one definition of the activation
/// functions, shared by every lowering.
Value buildActivation(OpBuilder &builder, Location loc, Activation act,
                      Value x);

/// memref.alloc of an f32 buffer with the given sizes (static where they are
/// constants), 64-byte aligned: the temporaries of MLIRGen and of the attn
/// passes.
Value allocF32Buffer(OpBuilder &builder, Location loc,
                     ArrayRef<OpFoldResult> sizes);

/// The type a score modifier or mask predicate function takes a table of
/// `table`'s rank and element type as: a memref of dynamic sizes and any
/// strides, so that every buffer of the table casts to it.
MemRefType getModifierTableType(ShapedType table);
} // namespace mlir::attn

#endif // ATTN_DIALECT_ATTN_IR_ATTNOPS_H
