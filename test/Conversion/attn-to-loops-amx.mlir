// RUN: attn-opt %s "--convert-attn-to-loops=bf16-dot-products=true amx-tiles=true" | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=bf16-dot-products=true amx-tiles=true bf16-vector-dots=false" | FileCheck %s --check-prefix=AMXONLY
// RUN: attn-opt %s "--convert-attn-to-loops=bf16-dot-products=true" | FileCheck %s --check-prefix=VDP
//
// bf16 dot products on the AMX tile unit (BlockedAMX.cpp): on the packed
// layouts of the vdpbf16ps kernel (attn-to-loops-bf16-dots.mlir), in query
// tiles of the tile unit's 16 rows (the target's amxQueryTile; 8
// otherwise), with the queries padded by QT - 1 = 15 rows (copies of the
// last) and the value pairs by 16 zero rows.
// Pass 1: the query tile's 2 chunks of 32 elements are loaded once per key
// tile (16 x 32 bf16 tiles); each of the 8 panels of 16 keys (unrolled,
// each under an scf.if that skips the panels past the visible keys) is one
// 16 x 16 f32 tile, from a zero tile of its own, the sum over D of
// tdpbf16ps of a query chunk and 16 rows of the panel, stored into the
// score scratch, from which the vector code scales, masks and takes the
// maxima. Pass 2 zeroes the probabilities past the last vector it wrote.
// Pass 3: the chunk of 32 keys the visible keys end inside is copied
// without the masked keys' values; each chunk picks its value rows with
// selects (in place, that copy, or the zero rows); for each 16 value
// columns (unrolled, a zero tile each) the 4 probability tiles (loaded
// once) times 16 pair rows are summed into a 16 x 16 tile and stored, and
// the vector code adds them to the rescaled accumulators.
// D = 7 (@odd) is not whole tiles: vdpbf16ps, or f32 products with
// bf16-vector-dots=false. Without amx-tiles, vdpbf16ps everywhere.

// CHECK-LABEL: func @amx
// CHECK:      %[[QP:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x64xbf16>
// CHECK:      %[[KP:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x32x32xbf16>
// CHECK:      %[[VP:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x32x2xbf16>
// CHECK:      scf.parallel
// CHECK-DAG:    %[[S:.*]] = memref.alloc() : memref<16x128xf32>
// CHECK-DAG:    %[[P:.*]] = memref.alloc() : memref<16x128xbf16>
// CHECK-DAG:    %[[PV:.*]] = memref.alloc() : memref<16x32xf32>
// CHECK-DAG:    %[[TAIL:.*]] = memref.alloc() : memref<16x64xbf16>
// Pass 1.
// CHECK:          %[[Q0:.*]] = amx.tile_load %[[QP]][{{.*}}, %c0{{[_0-9]*}}] : memref<?x?x?x64xbf16> into vector<16x32xbf16>
// CHECK:          %[[Q1:.*]] = amx.tile_load %[[QP]][{{.*}}, %c32{{[_0-9]*}}] : memref<?x?x?x64xbf16> into vector<16x32xbf16>
// CHECK:          scf.if
// CHECK:            %[[ZERO:.*]] = amx.tile_zero {attn.amx_chain = 0 : i64} : vector<16x16xf32>
// CHECK:            %[[K0:.*]] = amx.tile_load %[[KP]][{{.*}}, %c0{{[_0-9]*}}, %c0{{[_0-9]*}}] : memref<?x?x?x32x32xbf16> into vector<16x32xbf16>
// CHECK:            %[[S0:.*]] = amx.tile_mulf %[[Q0]], %[[K0]], %[[ZERO]]
// CHECK:            %[[K1:.*]] = amx.tile_load %[[KP]][{{.*}}, %c16{{[_0-9]*}}, %c0{{[_0-9]*}}]
// CHECK:            %[[S1:.*]] = amx.tile_mulf %[[Q1]], %[[K1]], %[[S0]]
// CHECK:            amx.tile_store %[[S]][%c0{{[_0-9]*}}, %c0{{[_0-9]*}}], %[[S1]] : memref<16x128xf32>, vector<16x16xf32>
// CHECK:          scf.if
// CHECK:            amx.tile_zero {attn.amx_chain = 1 : i64}
// CHECK-COUNT-2:    amx.tile_mulf
// CHECK:            amx.tile_store %[[S]][%c0{{[_0-9]*}}, %c16{{[_0-9]*}}]
// CHECK-COUNT-6:  amx.tile_store %[[S]]
// CHECK:          vector.load %[[S]]
// Pass 2, then the probabilities past the last written vector are zeroed.
// CHECK:          arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK:          scf.for %{{.*}} = %{{.*}} to %c128{{[_0-9]*}} step %c16
// CHECK:            vector.store %{{.*}}, %[[P]]
// Pass 3: the tail chunk's copy, the chunks' sources, the products.
// CHECK:          scf.if
// CHECK:            arith.select %{{.*}} : vector<32xi1>, vector<32xbf16>
// CHECK:            vector.store %{{.*}} : memref<?x64xbf16, strided<[64, 1], offset: ?>>, vector<32xbf16>
// CHECK-COUNT-4:  arith.select %{{.*}}, %{{.*}}, %{{.*}} : memref<?x64xbf16, strided<[64, 1], offset: ?>>
// CHECK-COUNT-4:  amx.tile_load %[[P]][%c0{{[_0-9]*}}, %{{.*}}] : memref<16x128xbf16> into vector<16x32xbf16>
// CHECK:          amx.tile_zero {attn.amx_chain = 0 : i64}
// CHECK-COUNT-4:  amx.tile_mulf
// CHECK:          amx.tile_store %[[PV]][%c0{{[_0-9]*}}, %c0{{[_0-9]*}}]
// CHECK:          amx.tile_zero {attn.amx_chain = 1 : i64}
// CHECK-COUNT-4:  amx.tile_mulf
// CHECK:          amx.tile_store %[[PV]][%c0{{[_0-9]*}}, %c16{{[_0-9]*}}]
// CHECK:          vector.load %[[PV]]
// CHECK-NOT:      dpbf16ps
// CHECK-LABEL: func @odd
// CHECK-NOT:      amx.
// CHECK:          llvm.x86.avx512bf16.dpbf16ps.512

// AMXONLY-LABEL: func @amx
// AMXONLY:         amx.tile_mulf
// AMXONLY-LABEL: func @odd
// AMXONLY-NOT:     {{amx\.|dpbf16ps|bf16}}
// AMXONLY:         vector.fma

// VDP-LABEL: func @amx
// VDP-NOT:     amx.
// VDP:         llvm.x86.avx512bf16.dpbf16ps.512
// VDP-NOT:     amx.
func.func @amx(%q: memref<2x4x?x64xf32>, %k: memref<2x2x?x64xf32>,
               %v: memref<2x2x?x32xf32>, %s: f32,
               %c: memref<2x?x4x32xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<2x4x?x64xf32>, memref<2x2x?x64xf32>, memref<2x2x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  return
}

func.func @odd(%q: memref<2x4x?x7xf32>, %k: memref<2x2x?x7xf32>,
               %v: memref<2x2x?x32xf32>, %s: f32,
               %c: memref<2x?x4x32xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x4x?x7xf32>, memref<2x2x?x7xf32>, memref<2x2x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  return
}
