// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
//
// The alignments in the generic kernel (the blocked dot kernel takes only
// softmax, so a static-D dot score goes generic here). sigmoid: no running
// maximum (the state's max is carried unchanged, no rescaling), the
// probabilities are 1 / (1 + exp(-s)), and the sum becomes 1 once a tile was
// seen (the finalize's acc / sum is acc). argmax: the tile's first score
// strictly above the running maximum with its index (-1: none), and the
// chosen key's value row replaces the accumulator row.

// CHECK-LABEL: func @sigmoid
// CHECK-NOT:   vector.contract
// CHECK:       scf.for %{{.*}} iter_args(%[[M:[^ ]*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8x16xf32>)
// CHECK:         %[[S:.*]] = vector.reduction <add>
// CHECK:         memref.store %[[S]]
// CHECK-NEXT:    scf.yield %{{.*}} : f32
// CHECK:         %[[M0:.*]] = vector.extract %[[M]][0] : f32 from vector<8xf32>
// CHECK:         scf.for
// CHECK:           %[[NEG:.*]] = arith.negf %{{.*}} : f32
// CHECK-NEXT:      %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:      %[[D:.*]] = arith.addf %{{.*}}, %[[E]] : f32
// CHECK-NEXT:      %[[P:.*]] = arith.divf %{{.*}}, %[[D]] : f32
// CHECK:         vector.fma
// CHECK:         %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:    vector.insert %[[M0]], %[[M]] [0] : f32 into vector<8xf32>
// CHECK-NEXT:    vector.insert %[[ONE]], %{{.*}} [0] : f32 into vector<8xf32>
func.func @sigmoid(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot align(sigmoid)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// CHECK-LABEL: func @argmax
// CHECK:       scf.for %{{.*}} iter_args(%[[M:[^ ]*]] = %{{.*}}, %{{.*}} = %{{.*}}, %[[ACC:[^ ]*]] = %{{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8x16xf32>)
// CHECK:         %[[M0:.*]] = vector.extract %[[M]][0] : f32 from vector<8xf32>
// CHECK:         %[[NONE:.*]] = arith.constant -1 : index
// CHECK:         %[[BEST:.*]]:2 = scf.for %{{.*}} iter_args(%[[BM:.*]] = %[[M0]], %[[BJ:.*]] = %[[NONE]]) -> (f32, index)
// CHECK:           %[[S:.*]] = vector.reduction <add>
// CHECK-NEXT:      %[[GT:.*]] = arith.cmpf ogt, %[[S]], %[[BM]] : f32
// CHECK-NEXT:      %[[NM:.*]] = arith.select %[[GT]], %[[S]], %[[BM]] : f32
// CHECK-NEXT:      %[[NJ:.*]] = arith.select %[[GT]], %{{.*}}, %[[BJ]] : index
// CHECK-NEXT:      scf.yield %[[NM]], %[[NJ]] : f32, index
// CHECK:         %[[TAKEN:.*]] = arith.cmpi sge, %[[BEST]]#1, %{{.*}} : index
// CHECK:         %[[OLD:.*]] = vector.extract %[[ACC]][0] : vector<16xf32> from vector<8x16xf32>
// CHECK:         %[[ROW:.*]] = scf.if %[[TAKEN]] -> (vector<16xf32>) {
// CHECK-NEXT:      %[[V:.*]] = vector.load
// CHECK-NEXT:      scf.yield %[[V]] : vector<16xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      scf.yield %[[OLD]] : vector<16xf32>
// CHECK:         vector.insert %[[BEST]]#0, %[[M]] [0] : f32 into vector<8xf32>
func.func @argmax(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot align(argmax)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// hard: argmax of the scores plus Gumbel noise from a counter-based hash of
// (seed, batch, head, query, key) (murmur3's fmix32 per word), so that the
// sample does not depend on the tiling.
// CHECK-LABEL: func @hard
// CHECK:       scf.for %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, index)
// CHECK-DAG:     arith.constant -2048144789 : i32
// CHECK-DAG:     arith.constant -1028477387 : i32
// CHECK-DAG:     arith.constant -1640531527 : i32
// CHECK:         arith.uitofp %{{.*}} : i32 to f32
// CHECK:         %[[L1:.*]] = math.log
// CHECK-NEXT:    %[[N1:.*]] = arith.negf %[[L1]] : f32
// CHECK-NEXT:    %[[L2:.*]] = math.log %[[N1]] : f32
// CHECK-NEXT:    %[[G:.*]] = arith.negf %[[L2]] : f32
// CHECK-NEXT:    %[[P:.*]] = arith.addf %{{.*}}, %[[G]] : f32
// CHECK-NEXT:    arith.cmpf ogt, %[[P]], %{{.*}} : f32
func.func @hard(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot align(hard) seed(12345)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}
