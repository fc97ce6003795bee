// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128 query-tiles-per-group=1 split-keys=false single-query-copy=false" | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128 query-tiles-per-group=1 split-keys=false single-query-copy=false bf16-dot-products=true" | FileCheck %s --check-prefix=BF16
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
// probability per row. The values are packed before the parallel loop, in
// key tiles of 128 rows ([B, Hv, ceil(Nk / 128), 128 x 128]), each tile's
// columns chunk by chunk (columns [c0, c0 + w) of key jj at c0 128 + jj w;
// keys past Nk zero), so that a chunk of a tile is one contiguous run:
// pass 3 reads [j0 / 128, c0 128 + jj w + 16 s] (after passes 1 and 2).
// CHECK-LABEL: func @value_chunks
// CHECK-SAME:    %[[V:[^:]*]]: memref<1x1x?x128xf32>, %{{[^:]*}}: memref<1x?x1x128xf32>
// CHECK:         %[[VT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x16384xf32>
// CHECK:         scf.parallel (%[[PB:[^,]*]], %[[PH:[^,]*]], %[[PT:[^)]*]]) =
// CHECK:           scf.for %[[JJ:.*]] = %c0{{[_0-9]*}} to %c128{{[_0-9]*}} step
// CHECK:             %[[EXISTS:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : index
// CHECK:             %[[ROW:.*]] = vector.load %[[V]][%[[PB]], %[[PH]], %{{.*}}, %c0{{[_0-9]*}}] : memref<1x1x?x128xf32>, vector<48xf32>
// CHECK:             %[[KEPT:.*]] = arith.select %[[EXISTS]], %[[ROW]], %{{.*}} : vector<48xf32>
// CHECK:             %[[AT:.*]] = arith.muli %[[JJ]], %c48{{[_0-9]*}} : index
// CHECK-NEXT:        %[[AT0:.*]] = arith.addi %c0{{[_0-9]*}}, %[[AT]] : index
// CHECK-NEXT:        vector.store %[[KEPT]], %[[VT]][%[[PB]], %[[PH]], %[[PT]], %[[AT0]]] : memref<?x?x?x16384xf32>, vector<48xf32>
// CHECK:             vector.store %{{.*}}, %[[VT]]{{.*}} : memref<?x?x?x16384xf32>, vector<48xf32>
// CHECK:             vector.store %{{.*}}, %[[VT]]{{.*}} : memref<?x?x?x16384xf32>, vector<32xf32>
// CHECK:         scf.for %[[J0:.*]] = %c0{{[_0-9]*}} to %{{.*}} step %c128
// CHECK:           %[[VTILE:.*]] = arith.divui %[[J0]], %c128{{[_0-9]*}} : index
// CHECK:           %{{.*}}:24 = scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK-NEXT:        %{{.*}}:24 = scf.for %[[KEY:.*]] = %c0{{[_0-9]*}} to %c128{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(
// CHECK:               %[[OFF0:.*]] = arith.muli %[[KEY]], %c48{{[_0-9]*}} : index
// CHECK-NEXT:          %[[AT0:.*]] = arith.addi %c0{{[_0-9]*}}, %[[OFF0]] : index
// CHECK-NEXT:          vector.load %[[VT]][%{{.*}}, %{{.*}}, %[[VTILE]], %[[AT0]]] : memref<?x?x?x16384xf32>, vector<16xf32>
// CHECK:               %[[AT1:.*]] = arith.addi %[[AT0]], %c16{{[_0-9]*}} : index
// CHECK-NEXT:          vector.load %[[VT]][%{{.*}}, %{{.*}}, %[[VTILE]], %[[AT1]]] : memref<?x?x?x16384xf32>, vector<16xf32>
// CHECK:               %[[AT2:.*]] = arith.addi %[[AT0]], %c32{{[_0-9]*}} : index
// CHECK-NEXT:          vector.load %[[VT]][%{{.*}}, %{{.*}}, %[[VTILE]], %[[AT2]]] : memref<?x?x?x16384xf32>, vector<16xf32>
// CHECK-COUNT-24:      vector.fma %{{.*}} : vector<16xf32>
// CHECK:           %{{.*}}:24 = scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK:           %{{.*}}:16 = scf.if %{{.*}} -> (vector<16xf32>, {{.*}}) {
// CHECK-NEXT:        %{{.*}}:16 = scf.for %[[KEY2:.*]] = %c0{{[_0-9]*}} to %c128{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(
// CHECK:               %[[OFF2:.*]] = arith.muli %[[KEY2]], %c32{{[_0-9]*}} : index
// CHECK-NEXT:          %[[AT3:.*]] = arith.addi %c12288{{[_0-9]*}}, %[[OFF2]] : index
// CHECK-NEXT:          vector.load %[[VT]][%{{.*}}, %{{.*}}, %[[VTILE]], %[[AT3]]] : memref<?x?x?x16384xf32>, vector<16xf32>
// CHECK:               %[[AT4:.*]] = arith.addi %[[AT3]], %c16{{[_0-9]*}} : index
// CHECK-NEXT:          vector.load %[[VT]][%{{.*}}, %{{.*}}, %[[VTILE]], %[[AT4]]] : memref<?x?x?x16384xf32>, vector<16xf32>
// CHECK-COUNT-16:      vector.fma %{{.*}} : vector<16xf32>
// CHECK:         memref.dealloc %[[VT]]
// CHECK-NEXT:    memref.dealloc %{{.*}} : memref<?x?x?x128x16xf32>
// CHECK-NEXT:    return
func.func @value_chunks(%q: memref<1x1x?x128xf32>, %k: memref<1x1x?x128xf32>,
                        %v: memref<1x1x?x128xf32>, %c: memref<1x?x1x128xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x?x128xf32>, memref<1x1x?x128xf32>, memref<1x1x?x128xf32>)
      outs(%c : memref<1x?x1x128xf32>)
  return
}
