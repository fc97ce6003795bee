// RUN: attn-opt %s --attn-approximate-math | FileCheck %s

// exp and tanh become arith-only polynomials: no math op, no libm call left,
// so that the loops containing them vectorize.

// CHECK-LABEL: func.func @probabilities
// CHECK-NOT: math.exp
// CHECK: arith.mulf
// CHECK: arith.fptosi
// CHECK-NOT: math.exp
// CHECK: return
func.func @probabilities(%s: f32, %m: f32) -> f32 {
  %d = arith.subf %s, %m : f32
  %p = math.exp %d : f32
  return %p : f32
}

// CHECK-LABEL: func.func @additive_hidden
// CHECK-NOT: math.tanh
// CHECK: arith.divf
// CHECK-NOT: math.tanh
// CHECK: return
func.func @additive_hidden(%x: f32) -> f32 {
  %t = math.tanh %x : f32
  return %t : f32
}
