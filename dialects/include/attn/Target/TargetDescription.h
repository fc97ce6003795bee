//===- TargetDescription.h - Tile and vector sizes per target ---*- C++ -*-===//
//
// What the tiling pass and the kernel patterns need to know about the
// machine: how many queries a tile holds, how many keys a key tile holds,
// how wide a vector register is and how large a vector the lowering may keep
// in registers. One instance per kind of CPU (HostCPU.cpp: x86-64 with
// AVX-512, x86-64 with AVX2), so that no conversion carries a machine
// constant; the passes take one by name (their `vector-isa` option).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TARGET_TARGETDESCRIPTION_H
#define ATTN_TARGET_TARGETDESCRIPTION_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir {
class Operation;
} // namespace mlir

namespace mlir::attn {

struct TargetDescription {
  /// The name the passes' `vector-isa` option and attnc's --vector-isa
  /// select ("avx512", "avx2").
  llvm::StringRef name;
  /// Queries per tile of the parallel loop: the register block of the
  /// kernels (each query keeps its running max, sum and accumulator in
  /// registers while the key tiles stream by).
  int64_t queryTile;
  /// Keys per tile of the key loop (the default of --tile-size).
  int64_t keyTile;
  /// Keys per tile of an additive score with vectors, whose keys
  /// -attn-fuse-key-projections projects a tile at a time: longer tiles
  /// spread the per-tile work (the accumulator's rescaling, the
  /// projection's clamped last row block) over more keys.
  int64_t additiveKeyTile;
  /// f32 lanes of one vector register: the blocked dot kernel scores this
  /// many keys per FMA and packs the keys in panels of this width.
  int64_t vectorLanes;
  /// The largest D or Dv whose rows live in vector registers (the
  /// accumulator of a query tile is queryTile x Dv floats).
  int64_t maxVectorElements;
  /// The largest key tile whose scores the kernels keep in scratch memory.
  int64_t maxKeyTile;
  /// The most rows of a projection (attn.linear) computed together (fewer
  /// when the accumulators of a chunk of columns would not fit the
  /// registers): independent FMA chains that share each load of the
  /// weights.
  int64_t projectionRowBlock;
  /// Vector registers of the target: what the blocked dot kernel's register
  /// blocks (queries x panels of keys, queries x value columns) must fit.
  int64_t vectorRegisters;
  /// Query tiles that take each key tile in turn while it is in cache (a
  /// query group): the key loop of the tiled form then runs over the key
  /// tiles once for the whole group, and the packed keys and values stream
  /// from memory once per group rather than once per query tile.
  int64_t queryTilesPerGroup;
  /// Parallel iterations (batch x heads x query tiles) the target plans
  /// threads for: an attention with fewer also splits its keys, so that
  /// the cores have work (a fixed number, not the thread count, so that
  /// the results do not depend on the thread count).
  int64_t keySplitIterations;
  /// The fewest keys of a split (rounded up to whole key tiles).
  int64_t minKeysPerSplit;
  /// Independent FMA chains a loop needs to keep the FMA pipes busy and
  /// hide the loads' hiccups (latency x pipes, twice over): the blocked
  /// kernel's P.V interleaves keys into separate sums until it has this
  /// many accumulators (a query tile of 8 with one vector of values has 8).
  int64_t fmaChains;
  /// Queries per tile when the products run on the AMX tile unit: the rows
  /// of its tiles (a tile of 16 rows doubles the products per loaded
  /// operand tile of 8; measured 1.35x at d = 128).
  int64_t amxQueryTile;
  /// The most bytes of a projection's packed weights (I x O floats per
  /// head) that each block of rows streams from L2 by itself: larger ones
  /// are shared by a slab of projectionBlocksPerSlab blocks, chunk by chunk.
  /// Per-head weights of one shared input that fit it all heads together
  /// run the heads inside each block of rows.
  int64_t projectionCachedWeightBytes;
  /// Row blocks of a projection that take each chunk of large weights in
  /// turn (a slab: one iteration of the parallel loop).
  int64_t projectionBlocksPerSlab;
  /// The most rows (b x n in all) of a projection that take the few-rows
  /// kernel (weights read as they are) instead of packing the weights for
  /// the blocked kernel.
  int64_t projectionFewRows;
  /// Bytes of packed keys and values (keys x (D + Dv) floats) that a key
  /// tile of the blocked dot kernel may grow to (blockedKeyTile): longer
  /// tiles spread the per-tile work (the row maxima, the rescaling of the
  /// state, the loops' entries) over more keys while the tile stays in L2
  /// for the query group. 0: the key tile is `keyTile` whatever the rows.
  int64_t keyTileCacheBytes;
  /// The longest key tile blockedKeyTile grows to.
  int64_t longestKeyTile;

  /// The key tile to use: `requested` (--tile-size) when it is set (> 0),
  /// else the target's (additiveKeyTile for an additive score with
  /// vectors).
  int64_t keyTileFor(int64_t requested, bool additiveVectors = false) const {
    if (requested > 0)
      return requested;
    return additiveVectors ? additiveKeyTile : keyTile;
  }
  /// The key tile of the blocked dot kernel for rows of `d` query/key and
  /// `dv` value elements (static): `keyTile`, doubled while the tile's
  /// packed keys and values fit keyTileCacheBytes, up to longestKeyTile.
  int64_t blockedKeyTile(int64_t d, int64_t dv) const {
    int64_t tile = keyTile;
    if (d <= 0 || dv <= 0)
      return tile;
    while (2 * tile <= longestKeyTile &&
           2 * tile * (d + dv) * 4 <= keyTileCacheBytes)
      tile *= 2;
    return tile;
  }
  /// The query tiles per group to use: `requested` when it is set (> 0),
  /// else the target's.
  int64_t queryGroupFor(int64_t requested) const {
    return requested > 0 ? requested : queryTilesPerGroup;
  }
};

/// Whether the AMX tile unit takes a query tile of `queryTile` rows, key
/// tiles of `keyTile` keys and rows of d and dv elements as whole tiles
/// (bf16 tiles of at most 16 rows x 32 elements, f32 tiles of 16 x 16): D
/// in chunks of 32, Dv of 16, keys of 32 (at most 16 chunks, unrolled).
inline bool amxTilesFit(int64_t queryTile, int64_t keyTile, int64_t d,
                        int64_t dv) {
  return queryTile >= 1 && queryTile <= 16 && keyTile % 32 == 0 &&
         keyTile <= 16 * 32 && d > 0 && d % 32 == 0 && dv > 0 && dv % 16 == 0;
}

/// An x86-64 core with AVX-512 (16 f32 lanes, 32 zmm registers): the
/// description the passes use unless told otherwise (`vector-isa`), so that
/// their IR does not depend on the machine they run on.
const TargetDescription &x86AVX512();

/// An x86-64 core with AVX2 and FMA but no AVX-512 (8 f32 lanes, 16 ymm
/// registers: AMD Zen 1-3, Intel Haswell to Alder Lake).
const TargetDescription &x86AVX2();

/// The description of the CPU this process runs on: x86AVX512() where it
/// has AVX-512F, else x86AVX2().
const TargetDescription &hostCPU();

/// The description named `name`: "avx512", "avx2", or "host" (hostCPU());
/// null for any other name.
const TargetDescription *lookupTarget(llvm::StringRef name);

/// The names lookupTarget knows, for diagnostics: "host, avx512 or avx2".
llvm::StringRef knownTargetNames();

/// lookupTarget(name), or null after an error on `op` that names the
/// descriptions there are (a pass's `vector-isa` option).
const TargetDescription *lookupTarget(Operation *op, llvm::StringRef name);

} // namespace mlir::attn

#endif // ATTN_TARGET_TARGETDESCRIPTION_H
