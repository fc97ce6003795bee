// RUN: attn-opt %s --attn-decompose-scores | FileCheck %s
//
// multidim_additive (survey eqs. 30-32) decomposes like additive: W1 q + b
// and W2 K before the key loop (attn.linear into temporaries), and
// attn.online_attention with the multidim_additive combine, whose
// score_weights is W_d [Dv, Dw] (shared by the heads).

// CHECK-LABEL: func @multidim
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x2x?x6xf32>, %[[V:[^:]*]]: memref<?x1x?x3xf32>, %[[W1:[^:]*]]: memref<2x4x6xf32>, %[[W2:[^:]*]]: memref<4x6xf32>, %[[B:[^:]*]]: memref<2x4xf32>, %[[WD:[^:]*]]: memref<3x4xf32>, %[[C:[^:]*]]: memref<?x?x2x3xf32>)
// CHECK: %[[QP:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x2x?x4xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W1]] : memref<?x2x?x6xf32>, memref<2x4x6xf32>) bias(%[[B]] : memref<2x4xf32>) outs(%[[QP]] : memref<?x2x?x4xf32>)
// CHECK: %[[KP:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x2x?x4xf32>
// CHECK-NEXT: attn.linear ins(%[[Q]], %[[W2]] : memref<?x2x?x6xf32>, memref<4x6xf32>) outs(%[[KP]] : memref<?x2x?x4xf32>)
// CHECK-NEXT: attn.online_attention multidim_additive act(relu) causal ins(%[[QP]], %[[KP]], %[[V]] : memref<?x2x?x4xf32>, memref<?x2x?x4xf32>, memref<?x1x?x3xf32>) score_weights(%[[WD]] : memref<3x4xf32>) outs(%[[C]] : memref<?x?x2x3xf32>){{$}}
// CHECK-NEXT: memref.dealloc %[[QP]]
// CHECK-NEXT: memref.dealloc %[[KP]]
func.func @multidim(%q: memref<?x2x?x6xf32>, %v: memref<?x1x?x3xf32>,
                    %w1: memref<2x4x6xf32>, %w2: memref<4x6xf32>, %b: memref<2x4xf32>,
                    %wd: memref<3x4xf32>, %c: memref<?x?x2x3xf32>) {
  attn.attention multidim_additive act(relu) align(softmax) causal
      ins(%q, %q, %v : memref<?x2x?x6xf32>, memref<?x2x?x6xf32>, memref<?x1x?x3xf32>)
      params(W1 = %w1, W2 = %w2, b = %b, Wd = %wd
             : memref<2x4x6xf32>, memref<4x6xf32>, memref<2x4xf32>, memref<3x4xf32>)
      outs(%c : memref<?x?x2x3xf32>)
  return
}
