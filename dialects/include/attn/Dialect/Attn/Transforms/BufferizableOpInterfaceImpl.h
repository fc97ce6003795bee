//===- BufferizableOpInterfaceImpl.h - attn ops and bufferization -*- C++ -*-===//
//
// Registers the BufferizableOpInterface of the attn dialect's destination-
// passing ops, so that one-shot-bufferize turns their tensor form into the
// memref form the lowering passes work on.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define ATTN_DIALECT_ATTN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace attn {
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace attn
} // namespace mlir

#endif // ATTN_DIALECT_ATTN_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
