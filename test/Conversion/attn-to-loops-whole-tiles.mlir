// RUN: attn-opt %s "--convert-attn-to-loops=query-tiles-per-group=1 split-keys=false single-query-copy=false" | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=query-tiles-per-group=1 split-keys=false single-query-copy=false bf16-dot-products=true" | FileCheck %s --check-prefix=BF16
//
// Pass 3 of the blocked kernel (acc_r += p_rj v_j over the tile's keys)
// runs over a key count known only at run time (the last tile, masks).
// LLVM's loop strength reduction recomputed that bound in the loop latch,
// 9 scalar instructions per key beside the 16 FMAs of a value chunk. A
// whole tile (count = the key tile, 128) takes a copy of the loop with a
// constant trip count instead; the other tiles keep the dynamic bound.
// (Each accumulator is one vector: d_v = 32 is 2 per query row.)
// The same with bf16 dot products (vdpbf16ps, keys in pairs: steps of 2 up
// to the count rounded up to even).

// CHECK-LABEL: func @whole_tiles
// CHECK:         %[[WHOLE:.*]] = arith.cmpi eq, %[[COUNT:.*]], %[[TILE:c128[_0-9]*]] : index
// CHECK-NEXT:    %{{.*}}:16 = scf.if %[[WHOLE]] -> (vector<16xf32>, {{.*}}) {
// CHECK:           scf.for %{{.*}} = %c0{{[_0-9]*}} to %[[TILE]] step %c1{{[_0-9]*}} iter_args(
// CHECK-COUNT-16:    vector.fma %{{.*}} : vector<16xf32>
// CHECK:         } else {
// CHECK:           scf.for %{{.*}} = %c0{{[_0-9]*}} to %[[COUNT]] step %c1{{[_0-9]*}} iter_args(
// CHECK-COUNT-16:    vector.fma %{{.*}} : vector<16xf32>
// BF16-LABEL: func @whole_tiles
// BF16:         %[[WHOLE:.*]] = arith.cmpi eq, %{{.*}}, %[[TILE:c128[_0-9]*]] : index
// BF16-NEXT:    %{{.*}}:16 = scf.if %[[WHOLE]] -> (vector<16xf32>, {{.*}}) {
// BF16:           scf.for %{{.*}} = %c0{{[_0-9]*}} to %[[TILE]] step %[[TWO:c2[_0-9]*]] iter_args(
// BF16:             llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// BF16:         } else {
// BF16:           scf.for %{{.*}} = %c0{{[_0-9]*}} to %{{.*}} step %[[TWO]] iter_args(
// BF16:             llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
func.func @whole_tiles(%q: memref<1x1x?x32xf32>, %k: memref<1x1x?x32xf32>,
                       %v: memref<1x1x?x32xf32>, %c: memref<1x?x1x32xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x?x32xf32>, memref<1x1x?x32xf32>, memref<1x1x?x32xf32>)
      outs(%c : memref<1x?x1x32xf32>)
  return
}

// Pass 3 at d_v = 128 and a query tile of 8: value columns in chunks of
// 48, 48 and 32 (3, 3 and 2 vectors per query row: 24, 24 and 16
// accumulators of one vector each, within 3/4 of the 32 registers), each
// chunk of a value row loaded once and multiplied by a broadcast
// probability per row.
// CHECK-LABEL: func @value_chunks
// CHECK:         scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK:         %{{.*}}:24 = scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK-NEXT:      %{{.*}}:24 = scf.for %{{.*}} = %c0{{[_0-9]*}} to %c128{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(
// CHECK-COUNT-3:     vector.load %{{.*}} : memref<1x1x?x128xf32>, vector<16xf32>
// CHECK-COUNT-24:    vector.fma %{{.*}} : vector<16xf32>
// CHECK:         %{{.*}}:24 = scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK:         %{{.*}}:16 = scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK-NEXT:      %{{.*}}:16 = scf.for %{{.*}} = %c0{{[_0-9]*}} to %c128{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(
// CHECK-COUNT-2:     vector.load %{{.*}} : memref<1x1x?x128xf32>, vector<16xf32>
// CHECK-COUNT-16:    vector.fma %{{.*}} : vector<16xf32>
func.func @value_chunks(%q: memref<1x1x?x128xf32>, %k: memref<1x1x?x128xf32>,
                        %v: memref<1x1x?x128xf32>, %c: memref<1x?x1x128xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x?x128xf32>, memref<1x1x?x128xf32>, memref<1x1x?x128xf32>)
      outs(%c : memref<1x?x1x128xf32>)
  return
}
