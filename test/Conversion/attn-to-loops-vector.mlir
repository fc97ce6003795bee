// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
//
// With static D and Dv (at most 256) and contiguous buffers, the fused loop
// nest keeps q_i, w and the accumulator in vector registers: each score is a
// vector product and a vector.reduction, each key adds p_j v_j with one
// vector.fma, and the context row is written with one vector.store. No [Dv]
// accumulator buffer is allocated. (attn-to-loops.mlir checks the scalar
// form with vectorize=false; attn-to-loops-blocked.mlir the blocked kernel
// that a dot score without a weights output takes.)

// A dot score with a weights output (so not the blocked kernel).
// CHECK-LABEL: func @dot_vector
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x1x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x8xf32>, %[[V:[^:]*]]: memref<2x1x5x4xf32>, %[[S:[^:]*]]: f32, %[[C:[^:]*]]: memref<2x3x1x4xf32>, %[[W:[^:]*]]: memref<2x1x3x5xf32>)
// CHECK-NOT:  memref.alloc(
// CHECK:      %[[SCORES:.*]] = memref.alloca() : memref<64xf32>
// CHECK:      scf.for %[[B:[^ ]*]] =
// CHECK:        scf.for %[[H:[^ ]*]] =
// CHECK:          scf.for %[[I:[^ ]*]] =
// q_i is loaded once per query.
// CHECK:            %[[QV:.*]] = vector.load %[[Q]][%[[B]], %[[H]], %[[I]], %{{.*}}] : memref<2x1x3x8xf32>, vector<8xf32>
// CHECK:            %[[ZV:.*]] = vector.broadcast %{{.*}} : f32 to vector<4xf32>
// CHECK:            %[[LOOP:.*]]:3 = scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %[[ACC:.*]] = %[[ZV]]) -> (f32, f32, vector<4xf32>) {
// CHECK:              scf.for {{.*}} iter_args
// CHECK:                %[[KV:.*]] = vector.load %[[K]][{{.*}}] : memref<2x1x5x8xf32>, vector<8xf32>
// CHECK-NEXT:           %[[PROD:.*]] = arith.mulf %[[QV]], %[[KV]] {{.*}} : vector<8xf32>
// CHECK-NEXT:           %[[DOT:.*]] = vector.reduction <add>, %[[PROD]] fastmath<reassoc,contract> : vector<8xf32> into f32
// CHECK-NEXT:           arith.mulf %[[DOT]], %[[S]]
// CHECK:                arith.maxnumf
// The accumulator is rescaled by alpha, then gets p_j v_j.
// CHECK:              %[[ALPHAV:.*]] = vector.broadcast %{{.*}} : f32 to vector<4xf32>
// CHECK-NEXT:         %[[RESCALED:.*]] = arith.mulf %[[ACC]], %[[ALPHAV]]
// CHECK:              math.exp
// CHECK:              scf.for {{.*}} iter_args(%[[A:.*]] = %[[RESCALED]]) -> (vector<4xf32>)
// CHECK:                %[[PV:.*]] = vector.broadcast %{{.*}} : f32 to vector<4xf32>
// CHECK-NEXT:           %[[VV:.*]] = vector.load %[[V]][{{.*}}] : memref<2x1x5x4xf32>, vector<4xf32>
// CHECK-NEXT:           %[[FMA:.*]] = vector.fma %[[PV]], %[[VV]], %[[A]] : vector<4xf32>
// CHECK-NEXT:           scf.yield %[[FMA]] : vector<4xf32>
// c = acc / l, one vector store of the row context[b, i, h, :].
// CHECK:            %[[INVL:.*]] = arith.select
// CHECK:            %[[INVLV:.*]] = vector.broadcast %[[INVL]] : f32 to vector<4xf32>
// CHECK-NEXT:       %[[CV:.*]] = arith.mulf %[[LOOP]]#2, %[[INVLV]]
// CHECK-NEXT:       vector.store %[[CV]], %[[C]][%[[B]], %[[I]], %[[H]], %{{.*}}] : memref<2x3x1x4xf32>, vector<4xf32>
// The weights: each score recomputed as a vector product.
// CHECK:            scf.if
// CHECK:              vector.load %[[K]]
// CHECK:              vector.reduction <add>
// CHECK:            memref.store %{{.*}}, %[[W]]
// CHECK-NOT:  memref.dealloc
// CHECK:      return
func.func @dot_vector(%q: memref<2x1x3x8xf32>, %k: memref<2x1x5x8xf32>,
                      %v: memref<2x1x5x4xf32>, %s: f32,
                      %c: memref<2x3x1x4xf32>, %a: memref<2x1x3x5xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>)
      scale(%s) outs(%c : memref<2x3x1x4xf32>) weights(%a : memref<2x1x3x5xf32>)
  return
}

// Additive: w (row h of a per-head w) is loaded once per head, and the
// activation applies to the whole vector q' + k'.
// CHECK-LABEL: func @additive_vector
// CHECK-SAME: %[[W:[^:]*]]: memref<4x16xf32>
// CHECK:      scf.for
// CHECK:        scf.for %[[H:[^ ]*]] =
// CHECK:          %[[WV:.*]] = vector.load %[[W]][%[[H]], %{{.*}}] : memref<4x16xf32>, vector<16xf32>
// CHECK:          scf.for
// CHECK:                %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NEXT:           %[[T:.*]] = math.tanh %[[SUM]] : vector<16xf32>
// CHECK-NEXT:           %[[WT:.*]] = arith.mulf %[[WV]], %[[T]] {{.*}} : vector<16xf32>
// CHECK-NEXT:           vector.reduction <add>, %[[WT]]
func.func @additive_vector(%q: memref<1x4x3x16xf32>, %k: memref<2x2x5x16xf32>,
                           %v: memref<2x2x5x8xf32>, %w: memref<4x16xf32>,
                           %c: memref<2x3x4x8xf32>) {
  attn.online_attention additive act(tanh)
      ins(%q, %k, %v : memref<1x4x3x16xf32>, memref<2x2x5x16xf32>, memref<2x2x5x8xf32>)
      score_weights(%w : memref<4x16xf32>) outs(%c : memref<2x3x4x8xf32>)
  return
}

// Cosine: |q_i| from the query vector, |k_j| and q.k from two reductions.
// CHECK-LABEL: func @cosine_vector
// CHECK:            %[[QV:.*]] = vector.load
// CHECK-NEXT:       %[[QQ:.*]] = arith.mulf %[[QV]], %[[QV]]
// CHECK-NEXT:       %[[QN2:.*]] = vector.reduction <add>, %[[QQ]]
// CHECK-NEXT:       math.sqrt %[[QN2]] : f32
// CHECK:                %[[KV:.*]] = vector.load
// CHECK:                vector.reduction <add>
// CHECK:                %[[KK:.*]] = arith.mulf %[[KV]], %[[KV]]
// CHECK-NEXT:           vector.reduction <add>, %[[KK]]
func.func @cosine_vector(%q: memref<1x1x3x5xf32>, %k: memref<1x1x7x5xf32>,
                         %v: memref<1x1x7x3xf32>, %c: memref<1x3x1x3xf32>) {
  attn.online_attention cosine
      ins(%q, %k, %v : memref<1x1x3x5xf32>, memref<1x1x7x5xf32>, memref<1x1x7x3xf32>)
      outs(%c : memref<1x3x1x3xf32>)
  return
}

// A dynamic D (or Dv) keeps the scalar loops and the [Dv] buffer.
// CHECK-LABEL: func @dynamic_size_is_scalar
// CHECK:       memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK-NOT:   vector.
// CHECK:       memref.dealloc
// CHECK-NEXT:  return
func.func @dynamic_size_is_scalar(%q: memref<1x1x3x?xf32>, %k: memref<1x1x7x?xf32>,
                                  %v: memref<1x1x7x3xf32>, %c: memref<1x3x1x3xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x3x?xf32>, memref<1x1x7x?xf32>, memref<1x1x7x3xf32>)
      outs(%c : memref<1x3x1x3xf32>)
  return
}
