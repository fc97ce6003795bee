// RUN: attn-opt %s | FileCheck %s
// RUN: attn-opt %s | attn-opt | FileCheck %s
//
// Multi-dimensional attention (survey eqs. 30-32) round-trips: the
// multidim_additive score of attn.attention (Wd [Dv, Dw] after W1, W2, b),
// on tensors and memrefs, and its decomposed form, the multidim_additive
// combine of attn.online_attention with score_weights W_d [Dv, Dw].

// CHECK-LABEL: func @multidim
// CHECK: attn.attention multidim_additive act(tanh) align(softmax) causal ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<?x1x?x6xf32>, memref<?x1x?x6xf32>, memref<?x1x?x3xf32>) params(W1 = %{{.*}}, W2 = %{{.*}}, b = %{{.*}}, Wd = %{{.*}} : memref<4x6xf32>, memref<4x6xf32>, memref<4xf32>, memref<3x4xf32>) lengths(%{{.*}} : memref<?xi32>) outs(%{{.*}} : memref<?x?x1x3xf32>)
// CHECK: attn.online_attention multidim_additive act(relu) window(4) ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>) score_weights(%{{.*}} : memref<3x4xf32>) outs(%{{.*}} : memref<?x?x1x3xf32>)
func.func @multidim(%q: memref<?x1x?x6xf32>, %v: memref<?x1x?x3xf32>,
                    %w1: memref<4x6xf32>, %w2: memref<4x6xf32>, %b: memref<4xf32>,
                    %wd: memref<3x4xf32>, %len: memref<?xi32>,
                    %c: memref<?x?x1x3xf32>, %qp: memref<?x1x?x4xf32>) {
  attn.attention multidim_additive act(tanh) align(softmax) causal
      ins(%q, %q, %v : memref<?x1x?x6xf32>, memref<?x1x?x6xf32>, memref<?x1x?x3xf32>)
      params(W1 = %w1, W2 = %w2, b = %b, Wd = %wd
             : memref<4x6xf32>, memref<4x6xf32>, memref<4xf32>, memref<3x4xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x1x3xf32>)
  attn.online_attention multidim_additive act(relu) window(4)
      ins(%qp, %qp, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<3x4xf32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// CHECK-LABEL: func @multidim_tensors
// CHECK: %{{.*}} = attn.attention multidim_additive act(sigmoid) align(softmax) ins({{.*}}) params(W1 = %{{.*}}, W2 = %{{.*}}, b = %{{.*}}, Wd = %{{.*}} : tensor<2x4x6xf32>, tensor<2x4x6xf32>, tensor<2x4xf32>, tensor<5x4xf32>) outs(%{{.*}} : tensor<?x?x2x5xf32>) -> tensor<?x?x2x5xf32>
func.func @multidim_tensors(%q: tensor<?x2x?x6xf32>, %v: tensor<?x1x?x5xf32>,
                            %w1: tensor<2x4x6xf32>, %b: tensor<2x4xf32>,
                            %wd: tensor<5x4xf32>, %c: tensor<?x?x2x5xf32>) -> tensor<?x?x2x5xf32> {
  %r = attn.attention multidim_additive act(sigmoid) align(softmax)
      ins(%q, %q, %v : tensor<?x2x?x6xf32>, tensor<?x2x?x6xf32>, tensor<?x1x?x5xf32>)
      params(W1 = %w1, W2 = %w1, b = %b, Wd = %wd
             : tensor<2x4x6xf32>, tensor<2x4x6xf32>, tensor<2x4xf32>, tensor<5x4xf32>)
      outs(%c : tensor<?x?x2x5xf32>) -> tensor<?x?x2x5xf32>
  return %r : tensor<?x?x2x5xf32>
}
