// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s
// RUN: attn-opt %s --convert-attn-to-linalg | FileCheck %s --check-prefix=GONE
//
// attn.linear becomes an init of the output (linalg.fill with 0, or a
// broadcast of the bias) and a linalg.generic reducing over the input
// dimension, for each of the four layouts of AttnOps.td; attn.activation
// becomes an elementwise linalg.generic.

// GONE-NOT: attn.linear
// GONE-NOT: attn.activation

// Loops (b, n, o, i): [B, N, I] x [O, I] -> [B, N, O].
// CHECK-DAG: #[[$IN3:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$W2_4:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[$OUT3:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// Bias loops (b, n, o).
// CHECK-DAG: #[[$B_O3:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// Loops (b, h, n, o, i) of the 4-d outputs.
// CHECK-DAG: #[[$IN3H:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d4)>
// CHECK-DAG: #[[$IN4:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$IN4B:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG: #[[$W3:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d3, d4)>
// CHECK-DAG: #[[$W2_5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d4)>
// CHECK-DAG: #[[$OUT4:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// Bias loops (b, h, n, o).
// CHECK-DAG: #[[$B_HO:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[$B_O4:.+]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// Activations.
// CHECK-DAG: #[[$ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ID0:.+]] = affine_map<() -> ()>

//===----------------------------------------------------------------------===//
// [B, N, I] x [O, I] -> [B, N, O]
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @linear_3d_shared
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x8xf32>, %[[W:[^:]*]]: memref<4x8xf32>, %[[B:[^:]*]]: memref<4xf32>, %[[Y:[^:]*]]: memref<?x?x4xf32>)
// Without bias: fill with 0, then accumulate.
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[Y]] : memref<?x?x4xf32>)
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$IN3]], #[[$W2_4]], #[[$OUT3]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : memref<?x?x8xf32>, memref<4x8xf32>) outs(%[[Y]] : memref<?x?x4xf32>) {
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[WIN:.*]]: f32, %[[ACC:.*]]: f32):
// The reduction may be reassociated and contracted (so that LLVM vectorizes it).
// CHECK-NEXT:   %[[P:.*]] = arith.mulf %[[IN]], %[[WIN]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:   %[[S:.*]] = arith.addf %[[ACC]], %[[P]] fastmath<reassoc,contract> : f32
// CHECK-NEXT:   linalg.yield %[[S]] : f32
// CHECK-NEXT: }
// With bias: the bias broadcast over (b, n) is the init, no fill.
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$B_O3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[B]] : memref<4xf32>) outs(%[[Y]] : memref<?x?x4xf32>) {
// CHECK-NEXT: ^bb0(%[[BIN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   linalg.yield %[[BIN]] : f32
// CHECK-NEXT: }
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$IN3]], #[[$W2_4]], #[[$OUT3]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : memref<?x?x8xf32>, memref<4x8xf32>) outs(%[[Y]] : memref<?x?x4xf32>)
// CHECK:      return
func.func @linear_3d_shared(%x: memref<?x?x8xf32>, %w: memref<4x8xf32>,
                            %b: memref<4xf32>, %y: memref<?x?x4xf32>) {
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>)
      outs(%y : memref<?x?x4xf32>)
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>)
      bias(%b : memref<4xf32>) outs(%y : memref<?x?x4xf32>)
  return
}

//===----------------------------------------------------------------------===//
// [B, N, I] x [H, O, I] -> [B, H, N, O] (per-head projection)
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @linear_3d_per_head
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x64xf32>, %[[W:[^:]*]]: memref<4x16x64xf32>, %[[B:[^:]*]]: memref<16xf32>, %[[BH:[^:]*]]: memref<4x16xf32>, %[[Y:[^:]*]]: memref<?x4x?x16xf32>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[Y]] : memref<?x4x?x16xf32>)
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$IN3H]], #[[$W3]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : memref<?x?x64xf32>, memref<4x16x64xf32>) outs(%[[Y]] : memref<?x4x?x16xf32>)
// CHECK:      arith.mulf
// CHECK-NEXT: arith.addf
// Per-head bias [H, O].
// CHECK:      linalg.generic {indexing_maps = [#[[$B_HO]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[BH]] : memref<4x16xf32>) outs(%[[Y]] : memref<?x4x?x16xf32>)
// CHECK-NOT:  linalg.fill
// CHECK:      linalg.generic {indexing_maps = [#[[$IN3H]], #[[$W3]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : {{.*}}) outs(%[[Y]] : {{.*}})
// Shared bias [O] with a per-head weight.
// CHECK:      linalg.generic {indexing_maps = [#[[$B_O4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[B]] : memref<16xf32>) outs(%[[Y]] : memref<?x4x?x16xf32>)
// CHECK-NOT:  linalg.fill
// CHECK:      linalg.generic {indexing_maps = [#[[$IN3H]], #[[$W3]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK:      return
func.func @linear_3d_per_head(%x: memref<?x?x64xf32>, %w: memref<4x16x64xf32>,
                              %b: memref<16xf32>, %bh: memref<4x16xf32>,
                              %y: memref<?x4x?x16xf32>) {
  attn.linear ins(%x, %w : memref<?x?x64xf32>, memref<4x16x64xf32>)
      outs(%y : memref<?x4x?x16xf32>)
  attn.linear ins(%x, %w : memref<?x?x64xf32>, memref<4x16x64xf32>)
      bias(%bh : memref<4x16xf32>) outs(%y : memref<?x4x?x16xf32>)
  attn.linear ins(%x, %w : memref<?x?x64xf32>, memref<4x16x64xf32>)
      bias(%b : memref<16xf32>) outs(%y : memref<?x4x?x16xf32>)
  return
}

//===----------------------------------------------------------------------===//
// [B, H, N, I] x [O, I] -> [B, H, N, O]
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @linear_4d_shared
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x4x?x16xf32>, %[[X1:[^:]*]]: memref<?x1x?x16xf32>, %[[W:[^:]*]]: memref<32x16xf32>, %[[B:[^:]*]]: memref<32xf32>, %[[BH:[^:]*]]: memref<4x32xf32>, %[[Y:[^:]*]]: memref<?x4x?x32xf32>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[Y]] : memref<?x4x?x32xf32>)
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$IN4]], #[[$W2_5]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : memref<?x4x?x16xf32>, memref<32x16xf32>) outs(%[[Y]] : memref<?x4x?x32xf32>)
// Shared bias.
// CHECK:      linalg.generic {indexing_maps = [#[[$B_O4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[B]] : memref<32xf32>) outs(%[[Y]] : memref<?x4x?x32xf32>)
// CHECK:      linalg.generic {indexing_maps = [#[[$IN4]], #[[$W2_5]], #[[$OUT4]]], {{.*}} ins(%[[X]], %[[W]] : {{.*}})
// Per-head bias with a shared weight.
// CHECK:      linalg.generic {indexing_maps = [#[[$B_HO]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[BH]] : memref<4x32xf32>) outs(%[[Y]] : memref<?x4x?x32xf32>)
// CHECK:      linalg.generic {indexing_maps = [#[[$IN4]], #[[$W2_5]], #[[$OUT4]]], {{.*}} ins(%[[X]], %[[W]] : {{.*}})
// A single static input head is broadcast: its index is the constant 0.
// CHECK:      linalg.fill
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$IN4B]], #[[$W2_5]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X1]], %[[W]] : memref<?x1x?x16xf32>, memref<32x16xf32>) outs(%[[Y]] : memref<?x4x?x32xf32>)
// CHECK:      return
func.func @linear_4d_shared(%x: memref<?x4x?x16xf32>, %x1: memref<?x1x?x16xf32>,
                            %w: memref<32x16xf32>, %b: memref<32xf32>,
                            %bh: memref<4x32xf32>, %y: memref<?x4x?x32xf32>) {
  attn.linear ins(%x, %w : memref<?x4x?x16xf32>, memref<32x16xf32>)
      outs(%y : memref<?x4x?x32xf32>)
  attn.linear ins(%x, %w : memref<?x4x?x16xf32>, memref<32x16xf32>)
      bias(%b : memref<32xf32>) outs(%y : memref<?x4x?x32xf32>)
  attn.linear ins(%x, %w : memref<?x4x?x16xf32>, memref<32x16xf32>)
      bias(%bh : memref<4x32xf32>) outs(%y : memref<?x4x?x32xf32>)
  attn.linear ins(%x1, %w : memref<?x1x?x16xf32>, memref<32x16xf32>)
      outs(%y : memref<?x4x?x32xf32>)
  return
}

//===----------------------------------------------------------------------===//
// [B, H, N, I] x [H, O, I] -> [B, H, N, O]
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @linear_4d_per_head
// CHECK-SAME: (%[[X:[^:]*]]: memref<2x3x5x8xf32>, %[[W:[^:]*]]: memref<3x6x8xf32>, %[[BH:[^:]*]]: memref<3x6xf32>, %[[Y:[^:]*]]: memref<2x3x5x6xf32>)
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[Y]] : memref<2x3x5x6xf32>)
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$IN4]], #[[$W3]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : memref<2x3x5x8xf32>, memref<3x6x8xf32>) outs(%[[Y]] : memref<2x3x5x6xf32>)
// CHECK:      linalg.generic {indexing_maps = [#[[$B_HO]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[BH]] : memref<3x6xf32>) outs(%[[Y]] : memref<2x3x5x6xf32>)
// CHECK-NOT:  linalg.fill
// CHECK:      linalg.generic {indexing_maps = [#[[$IN4]], #[[$W3]], #[[$OUT4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK:      return
func.func @linear_4d_per_head(%x: memref<2x3x5x8xf32>, %w: memref<3x6x8xf32>,
                              %bh: memref<3x6xf32>, %y: memref<2x3x5x6xf32>) {
  attn.linear ins(%x, %w : memref<2x3x5x8xf32>, memref<3x6x8xf32>)
      outs(%y : memref<2x3x5x6xf32>)
  attn.linear ins(%x, %w : memref<2x3x5x8xf32>, memref<3x6x8xf32>)
      bias(%bh : memref<3x6xf32>) outs(%y : memref<2x3x5x6xf32>)
  return
}

//===----------------------------------------------------------------------===//
// attn.activation
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @activation_identity
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x10xf32>, %[[Y:[^:]*]]: memref<?x10xf32>)
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]] : memref<?x10xf32>) outs(%[[Y]] : memref<?x10xf32>) {
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   linalg.yield %[[IN]] : f32
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @activation_identity(%x: memref<?x10xf32>, %y: memref<?x10xf32>) {
  attn.activation identity ins(%x : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
  return
}

// CHECK-LABEL: func @activation_tanh
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   %[[T:.*]] = math.tanh %[[IN]] : f32
// CHECK-NEXT:   linalg.yield %[[T]] : f32
func.func @activation_tanh(%x: memref<?x10xf32>) {
  attn.activation tanh ins(%x : memref<?x10xf32>) outs(%x : memref<?x10xf32>)
  return
}

// CHECK-LABEL: func @activation_relu
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$ID3]], #[[$ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}} : memref<2x?x4xf32>) outs(%{{.*}} : memref<2x?x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   %[[R:.*]] = arith.maximumf %[[IN]], %[[Z]] : f32
// CHECK-NEXT:   linalg.yield %[[R]] : f32
func.func @activation_relu(%x: memref<2x?x4xf32>, %y: memref<2x?x4xf32>) {
  attn.activation relu ins(%x : memref<2x?x4xf32>) outs(%y : memref<2x?x4xf32>)
  return
}

// sigmoid(x) = 1 / (1 + exp(-x)).
// CHECK-LABEL: func @activation_sigmoid
// CHECK-NEXT: linalg.generic {indexing_maps = [#[[$ID0]], #[[$ID0]]], iterator_types = []} ins(%{{.*}} : memref<f32>) outs(%{{.*}} : memref<f32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:   %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:   %[[NEG:.*]] = arith.negf %[[IN]] : f32
// CHECK-NEXT:   %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:   %[[D:.*]] = arith.addf %[[ONE]], %[[E]] : f32
// CHECK-NEXT:   %[[S:.*]] = arith.divf %[[ONE]], %[[D]] : f32
// CHECK-NEXT:   linalg.yield %[[S]] : f32
func.func @activation_sigmoid(%x: memref<f32>) {
  attn.activation sigmoid ins(%x : memref<f32>) outs(%x : memref<f32>)
  return
}

// The ops this pass does not lower are left alone.
// CHECK-LABEL: func @untouched
// CHECK-NEXT: attn.softmax
// CHECK-NEXT: return
func.func @untouched(%y: memref<?x10xf32>) {
  attn.softmax ins(%y : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
  return
}
