//===- HostCPU.cpp - Tile and vector sizes of x86-64 CPUs -----------------===//
//
// Two descriptions, one per vector ISA, and the host's pick between them
// (AVX-512F or not; `vector-isa=host`, attnc's default).
//
// AVX-512 (16 f32 lanes, 32 zmm registers):
// a tile of 8 queries keeps 8 running maxima, sums and [Dv] accumulators
// while 16-key panels are scored, 2 panels at a time, with 16 independent
// FMA chains (8 queries x 2 panels) per element of q: twice the FMAs per
// loaded panel row of 4 queries, measured 1.13x faster at d = 64 and 1.2x
// at d = 128 (docs/design.md, "Known limits"); a key tile of 128 keys keeps
// the 8 x 128 scores of the blocked kernel in L1 and halves the per-tile
// work of 64 (the rescaling of the state, the row maxima and sums): 2-5%
// faster at d = 16 and 64, the same at d = 128 and for causal masks. A
// query group of 16 tiles (128 queries) reads each key tile's keys and
// values from L3 once per 128 queries: 1.16-1.27x faster than 4 at
// d = 128, n = 2048-4096 and 1.21x at d = 64, n = 8192 on a Sapphire
// Rapids core (whose L3 is slow to stream from), the same at H8 n = 1024,
// 4% slower at H1 n = 1024 (bench/schedules.py); on a Zen 5 core 8 was
// within 1-2% of 4. 16 FMA chains: latency 4 x 2 pipes, twice over. On
// the AMX tile unit a query tile of 16 rows (whole tiles) was 1.35x faster
// than 8 at d = 128 and 1.08x at d = 64 (bench/bf16.py; the f32 kernel was
// 1.05-1.10x slower with 16).
// An additive score's key tile of 192 keys (32 row blocks of 6 for the
// projection of d_w = 128 that -attn-fuse-key-projections puts in the key
// loop): 1.03-1.04x over 128 for Bahdanau (b = 64, d = 256, d_w = 128,
// n_k = 2048-4096, one thread); 144 and 240 gave 1.03, 384 the same as 192
// (bench/projection_builds.py with --tile-size wrappers).
// A projection whose packed weights exceed 1 MiB (half this core's L2)
// computes slabs of 8 row blocks chunk by chunk: 1.26-1.97x at I x O =
// 1024 x 512, 1024 x 1024 and 2048 x 256 on one and two threads, where
// each block otherwise streamed the weights from L3; at 1 MiB and below
// it was the same or slower (L2 serves them, and a block's rows stay in L1).
// Per-head weights of one input (Wq X, 8 heads x 64 x 512: 1 MiB in all)
// with the heads inside each block of rows: 1.09x at n = 2048-4096 on one
// thread, 1.05x on two (each head no longer streams x again).
// Projections of up to 16 rows in all read their weights as they are (the
// few-rows kernel) rather than packing them: against the packed kernel
// (512 x 512 weights, 8 heads of 64), one thread 2.1x at 1 row, 1.6x at 8,
// 1.02x at 12, 0.97x at 16, 0.89x at 32; two threads 1.6x at 12-16, 1.3x at
// 24-32, 1.03x at 64 (the packed kernel's row blocks leave the threads
// unbalanced there).
// The blocked kernel's key tile grows from 128 keys while its packed keys
// and values fit 256 KiB (an eighth of Sapphire Rapids' 2 MiB L2), up to
// 512: 512 keys at d = 16 and 64, 256 at d = 128, 128 at d = 256. Against
// 128 keys (bench/compare_builds.py, one build with and without
// --tile-size, alternating rounds in one process), one thread: 4 heads of
// d = 16 1.05-1.12x, d = 64 1.03-1.14x at n = 8192 and 1.00-1.08x at
// n = 2048 (512 against 256: 1.01-1.06x), d = 128 1.00-1.02x with 256
// keys (512 against 256: 1.00-1.01x); two threads 0.94-1.05x at d = 16
// (1.05x in two runs of three) and 1.00-1.02x at n = 8192, d = 64 (a
// fourth run, 1.44x, was the guest's noise). A noisy guest: single runs
// moved by up to 40%, so only what held across runs is taken.
//===----------------------------------------------------------------------===//

#include "attn/Target/TargetDescription.h"

#include "mlir/IR/Operation.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir::attn;

const TargetDescription &mlir::attn::x86AVX512() {
  static const TargetDescription avx512{/*name=*/"avx512",
                                        /*queryTile=*/8,
                                        /*keyTile=*/128,
                                        /*additiveKeyTile=*/192,
                                        /*vectorLanes=*/16,
                                        /*maxVectorElements=*/256,
                                        /*maxKeyTile=*/4096,
                                        /*projectionRowBlock=*/8,
                                        /*vectorRegisters=*/32,
                                        /*queryTilesPerGroup=*/16,
                                        /*keySplitIterations=*/16,
                                        /*minKeysPerSplit=*/512,
                                        /*fmaChains=*/16,
                                        /*amxQueryTile=*/16,
                                        /*projectionCachedWeightBytes=*/1048576,
                                        /*projectionBlocksPerSlab=*/8,
                                        /*projectionFewRows=*/16,
                                        /*keyTileCacheBytes=*/262144,
                                        /*longestKeyTile=*/512};
  return avx512;
}

// AVX2 (8 f32 lanes, 16 ymm registers; measured on an AMD Zen 3 core, 2
// FMA pipes of 256 bits, 32 KiB L1d, 512 KiB L2, docs/performance.md
// "AVX2 cores"). Sizing the kernels for AVX-512 there made every vector
// two registers and spilled the accumulators: this description is 1.6x
// faster at d = 16 and 64 and 2.2x at d = 128 (H1 N2048, one thread). A
// tile of 6 queries scoring 2 panels of 8 keys per step (12 accumulators,
// the row maxima spilled around the inner loop) against 4 queries x 2
// panels: 1.18-1.27x at d = 128, 1.10x at H8 N1024 d = 64, 0.92-1.15x at
// H1 N2048 d = 64, 0.91-1.09x at 4 x d = 16 (a noisy guest; 6 queries x 1
// panel and 8 x 1 were within 1-3% of 4 x 2). Pass 3 then keeps 6 x 2
// accumulators (value chunks of 16 columns). Projection weights over 256
// KiB (half of Zen 3's L2) take slabs. The blocked kernel's key tile grows
// from 128 keys while its packed keys and values fit 128 KiB (a quarter of
// the L2), up to 512: 512 keys at d = 16, 256 at d = 64, 128 at d = 128.
// With 6 queries per tile and 8 lanes per vector, the per-tile work (row
// maxima, the state's rescaling, the loops' entries) weighs more per key
// than on AVX-512; against 128 keys, one thread (bench/sdpa.attn, fastest
// of 20-300 alternate calls, two runs): 4 heads of d = 16 1.02-1.03x
// (1.04x on two threads), d = 64 1.007-1.02x at n = 2048-8192, causal
// d = 64 1.01-1.02x, 0.97-0.99x at n = 200-300 (one partial tile). 256
// keys at d = 128 gained 0.4-1.4% (not taken: 256 KiB); 512 at d = 64 was
// 0.99-1.02x. Windows keep 128 keys: 256 was 0.82-0.84x at a window of 256.
const TargetDescription &mlir::attn::x86AVX2() {
  // The AVX-512 sizes but for the vector registers, the query tile they
  // fit and the L2 the projections' weights are cached in.
  static const TargetDescription avx2 = [] {
    TargetDescription d = x86AVX512();
    d.name = "avx2";
    d.queryTile = 6;
    d.vectorLanes = 8;
    d.vectorRegisters = 16;
    d.projectionCachedWeightBytes = 262144;
    d.keyTileCacheBytes = 131072;
    d.longestKeyTile = 512;
    return d;
  }();
  return avx2;
}

const TargetDescription &mlir::attn::hostCPU() {
  static const bool avx512 = llvm::sys::getHostCPUFeatures().lookup("avx512f");
  return avx512 ? x86AVX512() : x86AVX2();
}

const TargetDescription *mlir::attn::lookupTarget(llvm::StringRef name) {
  if (name == "host")
    return &hostCPU();
  if (name == "avx512")
    return &x86AVX512();
  if (name == "avx2")
    return &x86AVX2();
  return nullptr;
}

llvm::StringRef mlir::attn::knownTargetNames() {
  return "host, avx512 or avx2";
}

const TargetDescription *mlir::attn::lookupTarget(Operation *op,
                                                  llvm::StringRef name) {
  const TargetDescription *target = lookupTarget(name);
  if (!target)
    op->emitError() << "unknown vector-isa '" << name
                    << "' (expected " << knownTargetNames() << ")";
  return target;
}
