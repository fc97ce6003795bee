//===- HostCPU.cpp - The host CPU's tile and vector sizes -----------------===//
//
// Sizes for an x86-64 core with AVX-512 (16 f32 lanes, 32 zmm registers):
// a tile of 4 queries keeps 4 running maxima, sums and [Dv] accumulators in
// registers while 16-key panels are scored with one FMA per query and d; a
// key tile of 64 keys keeps the 4 x 64 scores of the blocked kernel in L1.
//
//===----------------------------------------------------------------------===//

#include "attn/Target/TargetDescription.h"

using namespace mlir::attn;

const TargetDescription &mlir::attn::hostCPU() {
  static const TargetDescription host{/*name=*/"host",
                                      /*queryTile=*/4,
                                      /*keyTile=*/64,
                                      /*vectorLanes=*/16,
                                      /*maxVectorElements=*/256,
                                      /*maxKeyTile=*/4096,
                                      /*projectionRowBlock=*/4,
                                      /*vectorRegisters=*/32};
  return host;
}

const TargetDescription *mlir::attn::lookupTarget(llvm::StringRef name) {
  if (name == "host")
    return &hostCPU();
  return nullptr;
}
