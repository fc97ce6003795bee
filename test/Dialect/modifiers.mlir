// RUN: attn-opt %s | FileCheck %s
// RUN: attn-opt %s | attn-opt | FileCheck %s
//
// Key bands, score modifiers and mask predicates round-trip on
// attn.attention (tensors: the tables are tensors there, the functions
// take memrefs) and attn.online_attention.

// CHECK-LABEL: func @tensors
// CHECK: attn.attention scaled_dot align(softmax) band_lower(-3) band_upper(0) score_mod(@bias) mask_mod(@keep) ins(
// CHECK-SAME: mod_sizes(%{{.*}}) mod_tables(%{{.*}} : tensor<4x?xf32>) outs(
func.func private @bias(%e: f32, %b: index, %h: index, %i: index, %l: index, %n: index,
                        %t: memref<?x?xf32, strided<[?, ?], offset: ?>>) -> f32 {
  %x = memref.load %t[%h, %l] : memref<?x?xf32, strided<[?, ?], offset: ?>>
  %r = arith.addf %e, %x : f32
  return %r : f32
}
func.func private @keep(%b: index, %h: index, %i: index, %l: index, %n: index,
                        %t: memref<?x?xf32, strided<[?, ?], offset: ?>>) -> i1 {
  %r = arith.cmpi ult, %l, %n : index
  return %r : i1
}
func.func @tensors(%q: tensor<?x4x?x16xf32>, %t: tensor<4x?xf32>, %n: index,
                   %c: tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32> {
  %r = attn.attention scaled_dot align(softmax) band_lower(-3) band_upper(0)
      score_mod(@bias) mask_mod(@keep)
      ins(%q, %q, %q : tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>)
      mod_sizes(%n) mod_tables(%t : tensor<4x?xf32>)
      outs(%c : tensor<?x?x4x16xf32>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// CHECK-LABEL: func @memrefs
// CHECK: attn.online_attention dot band_upper(2) mask_mod(@keep) ins(
// CHECK-SAME: mod_sizes(%{{.*}}) mod_tables(%{{.*}} : memref<4x?xf32>) outs(
func.func @memrefs(%q: memref<?x4x?x16xf32>, %t: memref<4x?xf32>, %n: index,
                   %c: memref<?x?x4x16xf32>) {
  attn.online_attention dot band_upper(2) mask_mod(@keep)
      ins(%q, %q, %q : memref<?x4x?x16xf32>, memref<?x4x?x16xf32>, memref<?x4x?x16xf32>)
      mod_sizes(%n) mod_tables(%t : memref<4x?xf32>)
      outs(%c : memref<?x?x4x16xf32>)
  return
}
