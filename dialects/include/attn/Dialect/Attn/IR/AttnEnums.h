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

#endif // ATTN_DIALECT_ATTN_IR_ATTNENUMS_H
