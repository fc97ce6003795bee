//===- TargetDescriptionTest.cpp - Descriptions per vector ISA ------------===//
//
// The target descriptions (attn/Target/TargetDescription.h): the names the
// passes' vector-isa option takes, the host's pick, and the register
// blocks the blocked kernel derives from them (panelsPerStep, in the
// kernels' header), which must fit each description's registers.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "attn/Target/TargetDescription.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include "gtest/gtest.h"

using namespace mlir::attn;

namespace {

TEST(TargetDescription, Names) {
  ASSERT_NE(lookupTarget("avx512"), nullptr);
  ASSERT_NE(lookupTarget("avx2"), nullptr);
  EXPECT_EQ(lookupTarget("avx512"), &x86AVX512());
  EXPECT_EQ(lookupTarget("avx2"), &x86AVX2());
  EXPECT_EQ(lookupTarget("host"), &hostCPU());
  EXPECT_EQ(lookupTarget("avx512")->name, "avx512");
  EXPECT_EQ(lookupTarget("avx2")->name, "avx2");
  EXPECT_EQ(lookupTarget("sse"), nullptr);
  EXPECT_EQ(lookupTarget(""), nullptr);
  EXPECT_EQ(lookupTarget("AVX2"), nullptr);
}

TEST(TargetDescription, HostPicksByAVX512F) {
  bool avx512 = llvm::sys::getHostCPUFeatures().lookup("avx512f");
  EXPECT_EQ(&hostCPU(), avx512 ? &x86AVX512() : &x86AVX2());
}

TEST(TargetDescription, VectorWidths) {
  EXPECT_EQ(x86AVX512().vectorLanes, 16);
  EXPECT_EQ(x86AVX512().vectorRegisters, 32);
  EXPECT_EQ(x86AVX2().vectorLanes, 8);
  EXPECT_EQ(x86AVX2().vectorRegisters, 16);
  for (const TargetDescription *t : {&x86AVX512(), &x86AVX2()}) {
    // Key tiles of whole panels, the additive one too.
    EXPECT_EQ(t->keyTile % t->vectorLanes, 0) << t->name.str();
    EXPECT_EQ(t->additiveKeyTile % t->vectorLanes, 0) << t->name.str();
    EXPECT_GT(t->queryTile, 0) << t->name.str();
  }
}

/// Pass 1's block: queryTile x P accumulators, P panel rows and a
/// broadcast within the registers, P dividing the tile's panels.
TEST(TargetDescription, PanelStepsFitTheRegisters) {
  for (const TargetDescription *t : {&x86AVX512(), &x86AVX2()}) {
    int64_t panels = t->keyTile / t->vectorLanes;
    for (int64_t queryTile = 1; queryTile <= 16; ++queryTile) {
      int64_t p = loops::panelsPerStep(*t, queryTile, t->keyTile);
      EXPECT_GE(p, 1);
      EXPECT_EQ(panels % p, 0) << t->name.str() << " QT " << queryTile;
      if (p > 1)
        EXPECT_LE(queryTile * p + p + 1, t->vectorRegisters)
            << t->name.str() << " QT " << queryTile;
    }
  }
  // The blocks the descriptions' own tiles get: 8 queries x 2 panels of
  // 16 with the maxima in registers; 6 x 2 panels of 8 with them spilled.
  EXPECT_EQ(loops::panelsPerStep(x86AVX512(), 8, 128), 2);
  EXPECT_EQ(loops::panelsPerStep(x86AVX2(), 6, 128), 2);
  // Where the maxima fit beside more than one panel, they stay.
  EXPECT_EQ(loops::panelsPerStep(x86AVX512(), 6, 128), 2);
  EXPECT_EQ(loops::panelsPerStep(x86AVX2(), 4, 128), 2);
  EXPECT_EQ(loops::panelsPerStep(x86AVX512(), 16, 128), 1);
}

/// The blocked kernel's key tile sized by the cache: AVX2 doubles 128 keys
/// while the tile's keys and values fit 128 KiB, up to 512; AVX-512 while
/// they fit 256 KiB, up to 512. Every size is whole panels that pass 1's
/// block divides.
TEST(TargetDescription, BlockedKeyTileBySize) {
  const TargetDescription &avx2 = x86AVX2(), &avx512 = x86AVX512();
  struct {
    const TargetDescription *target;
    int64_t d, dv, keys;
  } cases[] = {
      {&avx2, 16, 16, 512},
      {&avx2, 24, 40, 512}, // 512 x 64 x 4 B = 128 KiB
      {&avx2, 64, 64, 256},
      {&avx2, 64, 128, 128},
      {&avx2, 128, 128, 128},
      {&avx512, 16, 16, 512},
      {&avx512, 64, 64, 512}, // 512 x 128 x 4 B = 256 KiB
      {&avx512, 64, 65, 256},
      {&avx512, 128, 128, 256},
      {&avx512, 256, 256, 128},
      // Never below the target's tile, nor for rows of unknown length.
      {&avx2, 1024, 1024, 128},
      {&avx2, -1, 64, 128},
      {&avx2, 64, 0, 128},
      {&avx512, 1024, 1024, 128},
      {&avx512, -1, 64, 128},
  };
  for (const auto &c : cases)
    EXPECT_EQ(c.target->blockedKeyTile(c.d, c.dv), c.keys)
        << c.target->name.str() << " d " << c.d << " dv " << c.dv;
  EXPECT_EQ(avx2.blockedKeyTile(1, 1), avx2.longestKeyTile);
  for (const TargetDescription *t : {&avx512, &avx2})
    for (int64_t d = 1; d <= 256; ++d) {
      int64_t tile = t->blockedKeyTile(d, d);
      EXPECT_EQ(tile % t->vectorLanes, 0) << t->name.str() << " d " << d;
      EXPECT_LE(tile, t->maxKeyTile) << t->name.str() << " d " << d;
      EXPECT_EQ((tile / t->vectorLanes) %
                    loops::panelsPerStep(*t, t->queryTile, tile),
                0)
          << t->name.str() << " d " << d;
    }
}

} // namespace
