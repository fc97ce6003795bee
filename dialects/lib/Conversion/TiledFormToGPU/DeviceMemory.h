//===- DeviceMemory.h - What host code may touch in a CUDA library -*- C++ -*-===//
//
// Shared by -attn-serial-host-kernels and -attn-device-buffers: which
// buffers of a CUDA library's host function are device memory, and which
// ops read or write them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_TILEDFORMTOGPU_DEVICEMEMORY_H
#define ATTN_CONVERSION_TILEDFORMTOGPU_DEVICEMEMORY_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::attn {

/// Whether `value` is a buffer of device memory: any memref but those of
/// index elements, the shapes that memref.reshape reads on the host (host
/// memory, never touched by a kernel).
inline bool isDeviceData(Value value) {
  auto type = value ? dyn_cast<MemRefType>(value.getType()) : MemRefType();
  return type && !type.getElementType().isIndex();
}

/// Whether `op` itself reads or writes the contents of device memory.
inline bool accessesDeviceData(Operation *op) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect()) &&
           isDeviceData(e.getValue());
  });
}

} // namespace mlir::attn

#endif // ATTN_CONVERSION_TILEDFORMTOGPU_DEVICEMEMORY_H
