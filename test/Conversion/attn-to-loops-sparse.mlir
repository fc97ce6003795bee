// RUN: attn-opt %s --attn-tile-attention | FileCheck %s --check-prefix=TILED
// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
//
// The sparse alignments' key structure. Tiled form: per query tile a
// [QT, Nk] row buffer (heap, per parallel iteration), a key loop of
// attn.tile_scores over the visible key tiles (window: from the first
// query's key tile), attn.tile_sparse_align, the buffer freed. Loops: the
// scores stored per visible key; per row the maximum (NaN skipped), 30
// bisection passes on the threshold, the support's size and sum (and its
// spread for entmax15, whose threshold takes a sqrt), the context from the
// value rows of the support (vector FMAs, skipped where p = 0), then the
// weights of every key.

// TILED-LABEL: func @entmax
// TILED:       scf.parallel
// TILED:         %[[ROWS:.*]] = memref.alloc(%{{.*}}) : memref<8x?xf32>
// TILED-NEXT:    scf.for %[[J0:.*]] = %{{.*}} to %{{.*}} step %c128 {
// TILED-NEXT:      attn.tile_scores dot window(8) key_tile(128) query({{.*}}) keys(%{{.*}}[%{{.*}}, %{{.*}}, %[[J0]]] : memref<2x1x?x16xf32>) key_end(%{{.*}}) outs(%[[ROWS]] : memref<8x?xf32>)
// TILED-NEXT:    }
// TILED-NEXT:    attn.tile_sparse_align entmax15 window(8) scores(%[[ROWS]] : memref<8x?xf32>) values({{.*}}) key_end(%{{.*}}) outs({{.*}}) weights(%{{.*}} : memref<2x1x?x?xf32>)
// TILED-NEXT:    memref.dealloc %[[ROWS]] : memref<8x?xf32>

// CHECK-LABEL: func @entmax
// CHECK-NOT:   attn.
// CHECK:       scf.parallel
// CHECK:         %[[ROWS:.*]] = memref.alloc(%{{.*}}) : memref<8x?xf32>
// The rows of the tile are a loop, not unrolled code per row.
// CHECK:         scf.for %{{.*}} step %c128 {
// CHECK:           scf.for %[[R:.*]] = %{{.*}} to %c8{{.*}} step
// CHECK:             scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK:               %[[S:.*]] = vector.reduction <add>
// CHECK-NEXT:          memref.store %[[S]], %[[ROWS]][%[[R]], %[[J]]] : memref<8x?xf32>
// Then per row, in a loop over the 8 rows: its maximum,
// CHECK:         scf.for %[[R2:.*]] = %{{.*}} to %c8{{.*}} step
// CHECK:           scf.for {{.*}} iter_args(%[[M:.*]] = %{{.*}}) -> (f32) {
// CHECK:             memref.load %[[ROWS]][%[[R2]],
// CHECK:             arith.maxnumf %[[M]]
// the bisection of [-1, 0),
// CHECK:           %[[B:.*]]:2 = scf.for %{{.*}} = %{{.*}} to %c30{{.*}} step %{{.*}} iter_args(%{{.*}} = %cst{{.*}}, %{{.*}} = %cst{{.*}}) -> (f32, f32) {
// CHECK:             arith.cmpf oge
// the support {z' > lo} and the closed form,
// CHECK:           arith.cmpf ogt, %{{.*}}, %[[B]]#0 : f32
// CHECK:           math.sqrt
// the context, one value row per key of the support,
// CHECK:           scf.for {{.*}} -> (vector<16xf32>) {
// CHECK:             scf.if
// CHECK:               vector.fma
// CHECK:           vector.store
// and the weights; no second copy of the row's code.
// CHECK:           memref.store %{{.*}}, %{{.*}} : memref<2x1x?x?xf32>
// CHECK-NOT:       math.sqrt
// CHECK:         memref.dealloc %[[ROWS]]
func.func @entmax(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>, %a: memref<2x1x?x?xf32>) {
  attn.online_attention dot align(entmax15) window(8)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>) weights(%a : memref<2x1x?x?xf32>)
  return
}

// sparsemax: tau = (sum - 1) / |S|, no sqrt; dynamic D and Dv: scalar
// scores and a context accumulated in the output row.
// CHECK-LABEL: func @sparsemax
// CHECK:         memref.alloc(%{{.*}}) : memref<8x?xf32>
// CHECK:         %[[B:.*]]:2 = scf.for %{{.*}} to %c30{{.*}} -> (f32, f32) {
// CHECK:         arith.cmpf ogt, %{{.*}}, %[[B]]#0 : f32
// CHECK-NOT:     math.sqrt
// CHECK:         arith.divf
// CHECK:         scf.if
// CHECK-NOT:     vector.fma
// CHECK:         memref.dealloc
func.func @sparsemax(%q: memref<?x1x?x?xf32>, %c: memref<?x?x1x?xf32>, %s: f32, %len: memref<?xi32>) {
  attn.online_attention dot align(sparsemax) causal
      ins(%q, %q, %q : memref<?x1x?x?xf32>, memref<?x1x?x?xf32>, memref<?x1x?x?xf32>)
      scale(%s) lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x1x?xf32>)
  return
}
