// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128 bf16-dot-products=true" | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128" | FileCheck %s --check-prefix=F32
//
// bf16 dot products (attnc --dot-precision=bf16): the blocked kernel's two
// products take bf16-rounded operands and accumulate in f32 with AVX512-BF16
// vdpbf16ps (an llvm.call_intrinsic: 32 products per instruction, a pair
// per f32 lane). Before the parallel loop the queries are rounded into
// [B, H, Nq, 2 ceil(D/2)] (D = 7 here: one zero element pads the last pair),
// the keys packed into panels of 16 keys holding element pairs
// ([B, Hk, panels + 1, ceil(D/2), 32]: blocks transposed in registers) and
// the values into pairs of keys ([B, Hv, ceil(Nk/2), Dv, 2]: rows
// interleaved by a shuffle). Pass 1 broadcasts a pair of q per query
// (vpbroadcastd of the two bf16) against each panel row; pass 2 stores the
// probabilities rounded to bf16 (the sums stay f32); pass 3 takes keys in
// pairs: one broadcast pair of p per query against each 16-column slice of
// a value-row pair. Without the option the f32 kernel (vector.fma) runs.

// CHECK-LABEL: func @bf16_dots
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x?x7xf32>, %[[K:[^:]*]]: memref<2x2x?x7xf32>, %[[V:[^:]*]]: memref<2x2x?x32xf32>
// CHECK:      %[[QP:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x8xbf16>
// CHECK:        vector.load %[[Q]][{{.*}}] : memref<2x4x?x7xf32>, vector<7xf32>
// CHECK:        arith.truncf %{{.*}} : vector<8xf32> to vector<8xbf16>
// CHECK:        vector.store %{{.*}}, %[[QP]][{{.*}}] : memref<?x?x?x8xbf16>, vector<8xbf16>
// CHECK:      %[[KP:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x4x32xbf16>
// The key panels: 16 key rows (7 elements, zeros after) rounded to bf16
// and seen as 16 32-bit words (pairs), transposed by shuffles, and the 4
// pair rows stored whole.
// CHECK:        vector.load %[[K]][{{.*}}] : memref<2x2x?x7xf32>, vector<7xf32>
// CHECK:        arith.truncf %{{.*}} : vector<32xf32> to vector<32xbf16>
// CHECK-NEXT:   vector.bitcast %{{.*}} : vector<32xbf16> to vector<16xi32>
// CHECK:        vector.shuffle %{{.*}} : vector<16xi32>, vector<16xi32>
// CHECK-COUNT-4: vector.store %{{.*}}, %[[KP]][{{.*}}] : memref<?x?x?x4x32xbf16>, vector<32xbf16>
// CHECK:      %[[VP:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x32x2xbf16>
// The value pairs: 16 columns of keys 2p and 2p + 1 interleaved by one
// shuffle, rounded, stored as one row of the pair entry.
// CHECK:        %[[VFLAT:.*]] = memref.collapse_shape %[[VP]] {{\[\[}}0], [1], [2], [3, 4]] : memref<?x?x?x32x2xbf16> into memref<?x?x?x64xbf16>
// CHECK:        vector.shuffle %{{.*}}, %{{.*}} [0, 16, 1, 17, 2, 18, {{.*}}, 15, 31] : vector<16xf32>, vector<16xf32>
// CHECK-NEXT:   arith.truncf %{{.*}} : vector<32xf32> to vector<32xbf16>
// CHECK:        vector.store %{{.*}}, %[[VFLAT]][{{.*}}] : memref<?x?x?x64xbf16>, vector<32xbf16>
// CHECK:      scf.parallel
// CHECK:        memref.alloc() : memref<8x144xf32>
// CHECK:        memref.alloc() : memref<8x128xbf16>
// Pass 1: 4 pairs of q elements per key panel row.
// CHECK:          scf.for %{{.*}} = %c0{{[_0-9]*}} to %c4{{[_0-9]*}} step %c1{{[_0-9]*}}
// CHECK:            vector.load %[[KP]][{{.*}}] : memref<?x?x?x4x32xbf16>, vector<32xbf16>
// CHECK:            %[[QPAIR:.*]] = vector.load %[[QP]][{{.*}}] : memref<?x?x?x8xbf16>, vector<2xbf16>
// CHECK:            vector.bitcast %[[QPAIR]] : vector<2xbf16> to vector<1xi32>
// CHECK:            vector.broadcast %{{.*}} : i32 to vector<16xi32>
// CHECK:            %[[QB:.*]] = vector.bitcast %{{.*}} : vector<16xi32> to vector<32xbf16>
// CHECK:            llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"(%{{.*}}, %[[QB]], %{{.*}}) : (vector<16xf32>, vector<32xbf16>, vector<32xbf16>) -> vector<16xf32>
// Pass 2: the probabilities rounded to bf16 as they are stored.
// CHECK:          arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK:          vector.store %{{.*}} : memref<8x128xbf16>, vector<16xbf16>
// Pass 3: keys in pairs, 16 value columns per vdpbf16ps.
// CHECK:          scf.for %{{.*}} = %c0{{[_0-9]*}} to %{{.*}} step %c2{{[_0-9]*}}
// CHECK:            vector.load %[[VP]][{{.*}}] : memref<?x?x?x32x2xbf16>, vector<32xbf16>
// CHECK:            vector.load %{{.*}} : memref<8x128xbf16>, vector<2xbf16>
// CHECK:            llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK-DAG:  memref.dealloc %[[QP]]
// CHECK-DAG:  memref.dealloc %[[KP]]
// CHECK-DAG:  memref.dealloc %[[VP]]

// F32-LABEL: func @bf16_dots
// F32-NOT:     bf16
// F32:         vector.fma
// F32-NOT:     llvm.call_intrinsic
func.func @bf16_dots(%q: memref<2x4x?x7xf32>, %k: memref<2x2x?x7xf32>,
                     %v: memref<2x2x?x32xf32>, %s: f32,
                     %c: memref<2x?x4x32xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<2x4x?x7xf32>, memref<2x2x?x7xf32>, memref<2x2x?x32xf32>)
      scale(%s) outs(%c : memref<2x?x4x32xf32>)
  return
}
