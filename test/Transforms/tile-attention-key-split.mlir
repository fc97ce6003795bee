// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 query-tiles-per-group=4" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 split-keys=false query-tiles-per-group=4" | FileCheck %s --check-prefix=NOSPLIT
//
// Key splits (-attn-tile-attention, a dot or cosine softmax with a vector
// state and no weights output): when batch x heads x query groups (of at
// most 4 tiles of 8 queries) are fewer than the host plans threads for
// (16), each tile's keys
// are also split, in min(ceil(16 / groups), ceil(Nk / 512)) chunks of whole
// key tiles; otherwise `splits` is 1. The decision and the chunks depend on
// the sizes only, never on the thread count (the groups they count are
// ceil(tiles / 4), not the thread-sized groups of the parallel loop,
// test/Transforms/tile-attention-query-group.mlir). The parallel loop gets a
// fourth dimension, the split s, whose key loop covers [s chunk, (s + 1)
// chunk) of the group's keys. With one split each tile finalizes itself;
// with several it stores its partial state in per-split buffers (empty
// with one split), and a second parallel loop merges each tile's splits in
// order (m = max m_s, alpha_s = exp(m_s - m), 0 when m_s = -inf;
// l = sum alpha_s l_s, acc = sum alpha_s acc_s) and finalizes it.

// CHECK-LABEL: func @plain
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x?x?x64xf32>, %[[C:[^:]*]]: memref<?x?x?x64xf32>)
// CHECK:      %[[B:.*]] = memref.dim %[[C]], %c0
// CHECK:      %[[H:.*]] = memref.dim %[[Q]], %c1
// CHECK:      %[[NQ:.*]] = memref.dim %[[Q]], %c2
// The tiles T = ceil(Nq / 8), the groups ceil(T / 4) and the groups of the
// parallel loop (sized by the threads).
// CHECK:      %[[T1:.*]] = arith.addi %{{.*}}, %c7
// CHECK-NEXT: %[[T:.*]] = arith.divui %[[T1]], %c8
// CHECK-NEXT: %[[G1:.*]] = arith.addi %[[T]], %c3
// CHECK-NEXT: %[[GROUPS:.*]] = arith.divui %[[G1]], %c4
// CHECK:      %[[PGROUPS:.*]] = arith.minsi %{{.*}}, %[[T]]
// The iterations the splits count: batch x heads x ceil(T / 4), fewer
// than 16.
// CHECK-NEXT: %[[BH:.*]] = arith.muli %[[B]], %[[H]]
// CHECK-NEXT: %[[WORK:.*]] = arith.muli %[[BH]], %[[GROUPS]]
// CHECK-NEXT: %[[FEW:.*]] = arith.cmpi ult, %[[WORK]], %c16
// At least 512 keys per split.
// CHECK:      arith.divui %{{.*}}, %c512
// The chunk: whole key tiles of 128.
// CHECK:      %[[CT:.*]] = arith.divui %{{.*}}, %c128
// CHECK-NEXT: %[[CHUNK:.*]] = arith.muli %[[CT]], %c128
// CHECK:      %[[SPLITS0:.*]] = arith.minsi
// CHECK-NEXT: %[[SPLITS:.*]] = arith.maxsi %[[SPLITS0]], %c1
// CHECK-NEXT: %[[SINGLE:.*]] = arith.cmpi eq, %[[SPLITS]], %c1
// CHECK-NEXT: %[[STORED:.*]] = arith.select %[[SINGLE]], %c0, %[[SPLITS]]
// CHECK:      %[[M:.*]] = memref.alloc(%[[B]], %[[H]], %[[STORED]], %{{.*}}) : memref<?x?x?x?xf32>
// CHECK-NEXT: %[[L:.*]] = memref.alloc(%[[B]], %[[H]], %[[STORED]], %{{.*}}) : memref<?x?x?x?xf32>
// CHECK-NEXT: %[[ACC:.*]] = memref.alloc(%[[B]], %[[H]], %[[STORED]], %{{.*}}) : memref<?x?x?x?x64xf32>
// CHECK-NEXT: scf.parallel (%[[PB:.*]], %[[PH:.*]], %[[GI:.*]], %[[S:.*]]) = (%c0, %c0, %c0, %c0) to (%[[B]], %[[H]], %[[PGROUPS]], %[[SPLITS]]) step (%c1, %c1, %c1, %c1) {
// CHECK:        %[[I0:.*]] = arith.muli %{{.*}}, %c8
// The group's keys within split s: [max(begin, s chunk), min(end, (s + 1) chunk)).
// CHECK:        %[[FIRST:.*]] = arith.muli %[[S]], %[[CHUNK]]
// CHECK-NEXT:   %[[LO:.*]] = arith.maxsi %[[FIRST]], %c0
// CHECK-NEXT:   %[[NEXT:.*]] = arith.addi %[[FIRST]], %[[CHUNK]]
// CHECK-NEXT:   %[[HI:.*]] = arith.minsi %{{.*}}, %[[NEXT]]
// CHECK:        scf.for %{{.*}} = %[[LO]] to %[[HI]] step %c128 {
// CHECK:            attn.online_softmax_update dot key_tile(128)
// Each tile of the group: finalized, or its partial state stored.
// CHECK:        scf.for %[[G:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:          %[[TILE:.*]] = arith.addi %[[I0]], %{{.*}}
// CHECK:          scf.if %[[SINGLE]] {
// CHECK-NEXT:       attn.tile_finalize
// CHECK-NEXT:     } else {
// CHECK-NEXT:       vector.store %{{.*}}, %[[M]][%[[PB]], %[[PH]], %[[S]], %[[TILE]]] : memref<?x?x?x?xf32>, vector<8xf32>
// CHECK-NEXT:       vector.store %{{.*}}, %[[L]][%[[PB]], %[[PH]], %[[S]], %[[TILE]]] : memref<?x?x?x?xf32>, vector<8xf32>
// CHECK-NEXT:       vector.store %{{.*}}, %[[ACC]][%[[PB]], %[[PH]], %[[S]], %[[TILE]], %c0] : memref<?x?x?x?x64xf32>, vector<64xf32>
// The merge, in split order, when there are splits.
// CHECK:      %[[MANY:.*]] = arith.xori %[[SINGLE]], %true
// CHECK-NEXT: scf.if %[[MANY]] {
// CHECK-NEXT:   scf.parallel (%[[MB:.*]], %[[MH:.*]], %[[MI0:.*]]) = (%c0, %c0, %c0) to (%[[B]], %[[H]], %[[NQ]]) step (%c1, %c1, %c8) {
// CHECK-NEXT:     %[[MAX:.*]] = scf.for %[[S1:.*]] = %c0 to %[[SPLITS]] step %c1 iter_args(%[[CUR:.*]] = %{{.*}}) -> (vector<8xf32>) {
// CHECK-NEXT:       %[[MS1:.*]] = vector.load %[[M]][%[[MB]], %[[MH]], %[[S1]], %[[MI0]]]
// CHECK-NEXT:       %[[MX:.*]] = arith.maximumf %[[CUR]], %[[MS1]]
// CHECK-NEXT:       scf.yield %[[MX]]
// CHECK:          %[[SUMS:.*]]:2 = scf.for %[[S2:.*]] = %c0 to %[[SPLITS]] step %c1 iter_args(%[[LSUM:.*]] = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xf32>, vector<8x64xf32>) {
// CHECK-NEXT:       %[[MS:.*]] = vector.load %[[M]][%[[MB]], %[[MH]], %[[S2]], %[[MI0]]]
// CHECK-NEXT:       %[[EMPTY:.*]] = arith.cmpf oeq, %[[MS]], %{{.*}} : vector<8xf32>
// CHECK-NEXT:       %[[D:.*]] = arith.subf %[[MS]], %[[MAX]]
// CHECK-NEXT:       %[[E:.*]] = math.exp %[[D]]
// CHECK-NEXT:       %[[ALPHA:.*]] = arith.select %[[EMPTY]], %{{.*}}, %[[E]]
// CHECK-NEXT:       %[[LS:.*]] = vector.load %[[L]][%[[MB]], %[[MH]], %[[S2]], %[[MI0]]]
// CHECK-NEXT:       vector.fma %[[ALPHA]], %[[LS]], %[[LSUM]]
// CHECK:            vector.load %[[ACC]][%[[MB]], %[[MH]], %[[S2]], %[[MI0]], %c0]
// CHECK:          attn.tile_finalize ins(%[[SUMS]]#0, %[[SUMS]]#1 : vector<8xf32>, vector<8x64xf32>) outs(%[[C]][%[[MB]], %[[MI0]], %[[MH]]]
// CHECK:      memref.dealloc %[[M]]
// CHECK-NEXT: memref.dealloc %[[L]]
// CHECK-NEXT: memref.dealloc %[[ACC]]

// NOSPLIT-LABEL: func @plain
// NOSPLIT-NOT:   memref<?x?x?x?xf32>
// NOSPLIT:       scf.parallel ({{[^,]*}}, {{[^,]*}}, {{[^,]*}}) = {{.*}} step (%c1, %c1, %c1) {
// NOSPLIT:         memref.alloc() : memref<4x8xf32>
func.func @plain(%q: memref<?x?x?x64xf32>, %c: memref<?x?x?x64xf32>) {
  attn.online_attention dot
      ins(%q, %q, %q : memref<?x?x?x64xf32>, memref<?x?x?x64xf32>, memref<?x?x?x64xf32>)
      outs(%c : memref<?x?x?x64xf32>)
  return
}

// Causal with the log-sum-exp: a split starts at max(the group's first key
// tile, s chunk) and ends at min(its last query's end, (s + 1) chunk), and
// each tile of the group at its own end; the merged maxima give the
// log-sum-exp.
// CHECK-LABEL: func @causal_lse
// CHECK:        scf.parallel ({{.*}}) = (%c0, %c0, %c0, %c0)
// CHECK:          arith.muli
// CHECK:          attn.online_softmax_update dot causal key_tile(128)
// CHECK:          attn.tile_finalize ins({{.*}}) outs({{.*}}) lse(%{{.*}} : vector<8xf32>) into(
// CHECK:        scf.parallel
// CHECK:          %[[MAX:.*]] = scf.for
// CHECK:          attn.tile_finalize ins({{.*}}) outs({{.*}}) lse(%[[MAX]] : vector<8xf32>) into(
func.func @causal_lse(%q: memref<1x2x?x16xf32>, %c: memref<1x?x2x16xf32>,
                      %lse: memref<1x2x?xf32>) {
  attn.online_attention dot causal
      ins(%q, %q, %q : memref<1x2x?x16xf32>, memref<1x2x?x16xf32>, memref<1x2x?x16xf32>)
      outs(%c : memref<1x?x2x16xf32>) lse(%lse : memref<1x2x?xf32>)
  return
}

// A weights output is not split (its pass needs every key of a row).
// CHECK-LABEL: func @weights
// CHECK-NOT:     memref<?x?x?x?xf32>
// CHECK:         scf.parallel ({{[^,]*}}, {{[^,]*}}, {{[^,]*}}) =
// CHECK:         attn.tile_weights dot scores_stored
func.func @weights(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>,
                   %a: memref<?x1x?x?xf32>) {
  attn.online_attention dot
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) weights(%a : memref<?x1x?x?xf32>)
  return
}
