//===- BlockedAMX.cpp - The blocked kernel's products on AMX tiles --------===//
//
// With bf16 dot products on a target with AMX-BF16 (the pass's `amx-tiles`
// option), the blocked dot kernel (BlockedDot.cpp) computes its two
// products with the amx dialect's tile ops (tdpbf16ps: a 16 x 32 bf16 tile
// times a 32 x 16 tile of bf16 pairs into 16 x 16 f32), on the layouts the
// vdpbf16ps kernel already packs:
//
//   S = Q K^T   amxScores: for each panel of 16 keys, one f32 tile of
//               QT x 16 scores, summed over D in chunks of 32: the query
//               tile [QT rows of q in bf16, 32 elements] times the panel's
//               16 rows of pairs (the tile layout tdpbf16ps wants: row c of
//               a panel holds elements 2c and 2c+1 of its 16 keys side by
//               side), stored into the kernel's score scratch;
//   P V         amxProbabilitiesTimesValues: for each 16 value columns, one
//               f32 tile of QT x 16, summed over the key tile in chunks of
//               32 keys: the probabilities [QT, 32] (bf16, written by pass
//               2) times 16 rows of value pairs (row p holds keys 2p and
//               2p+1 of each column side by side), stored into a [QT, Dv]
//               scratch that pass 3 adds to the rescaled accumulators.
//
// The scores' scaling, masks, maxima and exponentials stay the vector code
// of BlockedDot.cpp. Tile values never cross a block boundary as block
// arguments (LLVM's x86_amx values cannot flow through phis): the sums are
// unrolled in straight-line code (the panels past the visible keys skipped
// by an scf.if each), each from a zero tile of its own, and only tiles
// loaded once per key tile (at most 4) are used across blocks.
//
// Keys past the tile's last visible one: the chunk of 32 that `count` ends
// inside reads its pairs from a scratch copy holding only the visible keys
// (zeros after), so no value past the last key some row of the tile sees
// is read (a NaN stored past a batch's length stays out); the chunks after
// it read the zero pairs past the last key (the value pairs are packed
// with 16 spare rows of zeros), and their probabilities are zeroed.
//
//===----------------------------------------------------------------------===//

#include "BlockedPanels.h"

#include "mlir/Dialect/AMX/AMXDialect.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// Tiles of a key tile's operands kept loaded across the loop that uses
/// them (the other tiles of the loop body: the accumulator and the operand
/// it streams; AMX has 8).
constexpr int64_t kHoistedTiles = 4;

/// A zero tile that starts the sum of chain `chain`. Each chain gets its
/// own: a tile is copied only through memory, and one zero shared by the
/// chains (what CSE or loop-invariant code motion would make of identical
/// tile_zero ops) costs a 1 KiB store and load per chain; the attribute
/// keeps the ops distinct.
Value zeroTile(ImplicitLocOpBuilder &b, VectorType type, int64_t chain) {
  auto zero = b.create<amx::TileZeroOp>(type);
  zero->setAttr("attn.amx_chain", b.getI64IntegerAttr(chain));
  return zero;
}

} // namespace

void mlir::attn::loops::amxScores(Emitter &e, const TileProducts &t) {
  ImplicitLocOpBuilder &b = e.b;
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type();
  auto queryType = VectorType::get({t.queryTile, 32}, bf16);
  auto panelType = VectorType::get({16, 32}, bf16);
  auto scoreType = VectorType::get({t.queryTile, 16}, f32);
  int64_t chunks = t.d / 32;
  Value zero = e.index(0), sixteen = e.index(16);
  auto loadQueries = [&](int64_t c) -> Value {
    return b.create<amx::TileLoadOp>(
        queryType, t.queryPairs,
        ValueRange{t.bq, t.h, t.firstQuery, e.index(32 * c)});
  };
  SmallVector<Value> queries;
  if (chunks <= kHoistedTiles)
    for (int64_t c = 0; c < chunks; ++c)
      queries.push_back(loadQueries(c));
  // The panels of the key tile, unrolled (each its own zero tile), those
  // from `count` on skipped.
  for (int64_t p = 0; p < t.keyTile / 16; ++p) {
    Value jp = e.index(16 * p);
    auto ifPanel = b.create<scf::IfOp>(
        b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, jp, t.count),
        /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifPanel.thenBlock()->getTerminator());
    Value panel =
        b.create<arith::DivUIOp>(b.create<arith::AddIOp>(t.j0, jp), sixteen);
    Value acc = zeroTile(b, scoreType, p);
    for (int64_t c = 0; c < chunks; ++c) {
      Value keys = b.create<amx::TileLoadOp>(
          panelType, t.panels,
          ValueRange{t.bk, t.hk, panel, e.index(16 * c), zero});
      acc = b.create<amx::TileMulFOp>(
          scoreType, queries.empty() ? loadQueries(c) : queries[c], keys,
          acc);
    }
    b.create<amx::TileStoreOp>(t.scores, ValueRange{zero, jp}, acc);
  }
}

void mlir::attn::loops::amxProbabilitiesTimesValues(Emitter &e,
                                                    const TileProducts &t) {
  ImplicitLocOpBuilder &b = e.b;
  Type bf16 = b.getBF16Type(), f32 = b.getF32Type(), i32 = b.getI32Type();
  Value zero = e.index(0), two = e.index(2), thirtyTwo = e.index(32);
  int64_t rowWidth = 2 * t.dv;
  int64_t dyn = ShapedType::kDynamic;

  // The value pairs of head (bv, hv) and the tail scratch as one type of
  // [rows, 2 Dv] view, so that each chunk picks its source with a select.
  auto rowsType = MemRefType::get(
      {dyn, rowWidth}, bf16, StridedLayoutAttr::get(b.getContext(), dyn,
                                                    ArrayRef<int64_t>{rowWidth, 1}));
  Value pairRows = e.dim(t.valuePairs, 2);
  Value headOffset = b.create<arith::MulIOp>(
      b.create<arith::AddIOp>(
          b.create<arith::MulIOp>(t.bv, e.dim(t.valuePairs, 1)), t.hv),
      b.create<arith::MulIOp>(pairRows, e.index(rowWidth)));
  Value values = b.create<memref::ReinterpretCastOp>(
      rowsType, t.valuePairs, OpFoldResult(headOffset),
      ArrayRef<OpFoldResult>{pairRows, b.getIndexAttr(rowWidth)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(rowWidth), b.getIndexAttr(1)});
  Value tail = b.create<memref::ReinterpretCastOp>(
      rowsType, t.tailPairs, OpFoldResult(b.getIndexAttr(0)),
      ArrayRef<OpFoldResult>{b.getIndexAttr(16), b.getIndexAttr(rowWidth)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(rowWidth), b.getIndexAttr(1)});

  // The chunk `count` ends inside, if any: its visible keys' pairs into the
  // tail scratch, the elements of keys from `count` on zero.
  Value wholeChunks = b.create<arith::DivUIOp>(t.count, thirtyTwo);
  Value tailKeys = b.create<arith::RemUIOp>(t.count, thirtyTwo);
  Value tailStart = b.create<arith::MulIOp>(wholeChunks, thirtyTwo);
  Value tailFirstPair = b.create<arith::DivUIOp>(
      b.create<arith::AddIOp>(t.j0, tailStart), two);
  Value hasTail = b.create<arith::CmpIOp>(arith::CmpIPredicate::ne, tailKeys,
                                          zero);
  auto ifTail = b.create<scf::IfOp>(hasTail, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifTail.thenBlock()->getTerminator());
    auto pieceType = VectorType::get({32}, bf16);
    auto keyOfElementType = VectorType::get({32}, i32);
    // Element 2c + s of a pair row belongs to key 2 p + s.
    SmallVector<int32_t> parity;
    for (int32_t i = 0; i < 32; ++i)
      parity.push_back(i % 2);
    Value parityVec = b.create<arith::ConstantOp>(
        keyOfElementType, DenseIntElementsAttr::get(keyOfElementType, parity));
    Value tailKeysI32 = b.create<arith::IndexCastOp>(i32, tailKeys);
    e.forEach(e.index(16), [&](Value p) {
      Value firstKey = b.create<arith::IndexCastOp>(
          i32, b.create<arith::MulIOp>(p, two));
      Value keyOf = b.create<arith::AddIOp>(
          e.splat(keyOfElementType, firstKey), parityVec);
      Value visible = b.create<arith::CmpIOp>(
          arith::CmpIPredicate::slt, keyOf,
          e.splat(keyOfElementType, tailKeysI32));
      Value row = b.create<arith::AddIOp>(tailFirstPair, p);
      Value zeros = e.splat(pieceType, b.create<arith::ConstantOp>(
                                           b.getZeroAttr(bf16)));
      for (int64_t c = 0; c < rowWidth; c += 32) {
        Value piece = e.vload(pieceType, values, {row, e.index(c)});
        b.create<vector::StoreOp>(
            b.create<arith::SelectOp>(visible, piece, zeros), tail,
            ValueRange{p, e.index(c)});
      }
    });
  }

  // Chunk k's source: the value pairs in place (whole), the tail scratch
  // (the chunk `count` ends inside) or the zero pairs past the last key.
  Value zeroRow =
      b.create<arith::DivUIOp>(b.create<arith::AddIOp>(t.nk, e.index(1)), two);
  int64_t keyChunks = t.keyTile / 32;
  SmallVector<Value> sources, sourceRows;
  for (int64_t k = 0; k < keyChunks; ++k) {
    Value kIdx = e.index(k);
    Value whole =
        b.create<arith::CmpIOp>(arith::CmpIPredicate::ult, kIdx, wholeChunks);
    Value inTail = b.create<arith::AndIOp>(
        hasTail,
        b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, kIdx, wholeChunks));
    Value inPlaceRow = b.create<arith::DivUIOp>(
        b.create<arith::AddIOp>(t.j0, e.index(32 * k)), two);
    sources.push_back(b.create<arith::SelectOp>(inTail, tail, values));
    sourceRows.push_back(b.create<arith::SelectOp>(
        whole, inPlaceRow, b.create<arith::SelectOp>(inTail, zero, zeroRow)));
  }

  auto probabilityType = VectorType::get({t.queryTile, 32}, bf16);
  auto pairType = VectorType::get({16, 32}, bf16);
  auto productType = VectorType::get({t.queryTile, 16}, f32);
  auto loadProbabilities = [&](int64_t k) -> Value {
    return b.create<amx::TileLoadOp>(probabilityType, t.probabilities,
                                     ValueRange{zero, e.index(32 * k)});
  };
  SmallVector<Value> probabilities;
  if (keyChunks <= kHoistedTiles)
    for (int64_t k = 0; k < keyChunks; ++k)
      probabilities.push_back(loadProbabilities(k));
  // The value tiles, unrolled (each its own zero tile).
  for (int64_t c0 = 0; c0 < t.dv; c0 += 16) {
    Value acc = zeroTile(b, productType, c0 / 16);
    Value column = e.index(2 * c0);
    for (int64_t k = 0; k < keyChunks; ++k) {
      Value pairs = b.create<amx::TileLoadOp>(
          pairType, sources[k], ValueRange{sourceRows[k], column});
      acc = b.create<amx::TileMulFOp>(
          productType,
          probabilities.empty() ? loadProbabilities(k) : probabilities[k],
          pairs, acc);
    }
    b.create<amx::TileStoreOp>(t.products, ValueRange{zero, e.index(c0)},
                               acc);
  }
}
