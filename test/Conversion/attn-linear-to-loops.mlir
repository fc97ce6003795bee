// RUN: attn-opt %s --convert-attn-linear-to-loops | FileCheck %s
// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s --check-prefix=KEPT
//
// attn.linear with static I and O (O at most 256) is lowered by
// convert-attn-linear-to-loops: W is transposed once into W^T [H', I, O],
// and each block of 4 output rows keeps 4 vector<O> accumulators (starting
// from the bias) that get x_r[i] * W^T[i, :] for every i. With a dynamic I
// or O, attn.linear is left for convert-attn-to-linalg (as it is by the
// other passes).

// CHECK-LABEL: func @shared_weight_with_bias
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x8xf32>, %[[W:[^:]*]]: memref<5x8xf32>, %[[B:[^:]*]]: memref<5xf32>, %[[Y:[^:]*]]: memref<?x?x5xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() : memref<1x8x5xf32>
// CHECK:      memref.load %[[W]][%[[O:[a-z0-9_]*]], %[[I:[a-z0-9_]*]]] : memref<5x8xf32>
// CHECK-NEXT: memref.store %{{.*}}, %[[WT]][%{{.*}}, %[[I]], %[[O]]] : memref<1x8x5xf32>
// CHECK:      scf.for %[[N0:[^ ]*]] = %{{.*}} to %{{.*}} step %c4
// CHECK:        %[[BIAS:.*]] = vector.load %[[B]][%{{.*}}] : memref<5xf32>, vector<5xf32>
// CHECK:        %[[ACC:.*]]:4 = scf.for {{.*}} iter_args(%{{.*}} = %[[BIAS]], %{{.*}} = %[[BIAS]], %{{.*}} = %[[BIAS]], %{{.*}} = %[[BIAS]]) -> (vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>)
// CHECK:          %[[ROW:.*]] = vector.load %[[WT]]
// CHECK-COUNT-4:  vector.fma %{{.*}}, %[[ROW]]
// CHECK:        vector.store %[[ACC]]#0, %[[Y]]
// CHECK-COUNT-3: vector.store %[[ACC]]#{{[123]}}, %[[Y]]
// CHECK:      memref.dealloc %[[WT]]
// KEPT-LABEL: func @shared_weight_with_bias
// KEPT:       attn.linear
func.func @shared_weight_with_bias(%x: memref<?x?x8xf32>, %w: memref<5x8xf32>,
                                   %b: memref<5xf32>, %y: memref<?x?x5xf32>) {
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<5x8xf32>)
      bias(%b : memref<5xf32>) outs(%y : memref<?x?x5xf32>)
  return
}

// Per-head weights from a shared input: W^T has one slice per head, the
// head indexes both it and the output; without a bias the rows start at 0.
// CHECK-LABEL: func @per_head_projection
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x16xf32>, %[[W:[^:]*]]: memref<4x8x16xf32>, %[[Y:[^:]*]]: memref<?x4x?x8xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() : memref<4x16x8xf32>
// CHECK:      scf.for %[[H:[^ ]*]] =
// CHECK:        memref.load %[[W]][%[[H]],
// CHECK:      scf.for
// CHECK:        scf.for %[[HH:[^ ]*]] =
// CHECK:          vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK:          scf.for
// CHECK:            vector.load %[[WT]][%[[HH]], %{{.*}}, %{{.*}}] : memref<4x16x8xf32>, vector<8xf32>
// CHECK:            memref.load %[[X]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x?x16xf32>
// CHECK:          vector.store %{{.*}}, %[[Y]][%{{.*}}, %[[HH]], %{{.*}}, %{{.*}}] : memref<?x4x?x8xf32>, vector<8xf32>
func.func @per_head_projection(%x: memref<?x?x16xf32>, %w: memref<4x8x16xf32>,
                               %y: memref<?x4x?x8xf32>) {
  attn.linear ins(%x, %w : memref<?x?x16xf32>, memref<4x8x16xf32>)
      outs(%y : memref<?x4x?x8xf32>)
  return
}

// A one-head input broadcast over the heads of a per-head weight and a
// per-head bias: the input's head index is 0, the bias row is the head's.
// CHECK-LABEL: func @broadcast_input_heads
// CHECK-SAME: (%[[X:[^:]*]]: memref<2x1x?x3xf32>, %[[W:[^:]*]]: memref<2x6x3xf32>, %[[B:[^:]*]]: memref<2x6xf32>, %[[Y:[^:]*]]: memref<2x2x?x6xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() : memref<2x3x6xf32>
// CHECK:      memref.store %{{.*}}, %[[WT]]
// CHECK:      scf.for
// CHECK:        scf.for %[[H:[^ ]*]] =
// CHECK:          vector.load %[[B]][%[[H]], %{{.*}}] : memref<2x6xf32>, vector<6xf32>
// CHECK:            memref.load %[[X]][%{{.*}}, %c0{{[_0-9]*}}, %{{.*}}, %{{.*}}] : memref<2x1x?x3xf32>
func.func @broadcast_input_heads(%x: memref<2x1x?x3xf32>, %w: memref<2x6x3xf32>,
                                 %b: memref<2x6xf32>, %y: memref<2x2x?x6xf32>) {
  attn.linear ins(%x, %w : memref<2x1x?x3xf32>, memref<2x6x3xf32>)
      bias(%b : memref<2x6xf32>) outs(%y : memref<2x2x?x6xf32>)
  return
}

// A dynamic output size keeps the op (for convert-attn-to-linalg).
// CHECK-LABEL: func @dynamic_output_size
// CHECK-NEXT:  attn.linear
func.func @dynamic_output_size(%x: memref<?x?x8xf32>, %w: memref<?x8xf32>,
                               %y: memref<?x?x?xf32>) {
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<?x8xf32>)
      outs(%y : memref<?x?x?xf32>)
  return
}
