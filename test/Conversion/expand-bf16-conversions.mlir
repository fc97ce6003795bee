// RUN: attn-opt %s --attn-expand-bf16-conversions | FileCheck %s
//
// f32 -> bf16 rounding as integer ops (to nearest even; NaN to a quiet
// NaN) and bf16 -> f32 as a shift, in vectors: what attnc runs on CPUs
// without AVX512-BF16, where LLVM would call __truncsfbf2 per element.
// Other truncations (to f16) and other ops are left as they are.

// CHECK-LABEL: func @round_to_bf16
// CHECK-NOT:     arith.truncf
// CHECK-DAG:     %[[ONE:.*]] = arith.constant dense<1> : vector<8xi32>
// CHECK-DAG:     %[[SIXTEEN:.*]] = arith.constant dense<16> : vector<8xi32>
// CHECK-DAG:     %[[QNAN:.*]] = arith.constant dense<32704> : vector<8xi16>
// CHECK-DAG:     %[[HALF:.*]] = arith.constant dense<32767> : vector<8xi32>
// CHECK:         %[[NAN:.*]] = arith.cmpf une, %[[X:.*]], %[[X]] : vector<8xf32>
// CHECK-NEXT:    %[[BITS:.*]] = arith.bitcast %[[X]] : vector<8xf32> to vector<8xi32>
// CHECK-NEXT:    %[[HIGH:.*]] = arith.shrui %[[BITS]], %[[SIXTEEN]] : vector<8xi32>
// CHECK-NEXT:    %[[ODD:.*]] = arith.andi %[[HIGH]], %[[ONE]] : vector<8xi32>
// CHECK-NEXT:    %[[BIAS:.*]] = arith.addi %[[ODD]], %[[HALF]] : vector<8xi32>
// CHECK-NEXT:    %[[ROUNDED:.*]] = arith.addi %[[BITS]], %[[BIAS]] : vector<8xi32>
// CHECK-NEXT:    %[[TOP:.*]] = arith.shrui %[[ROUNDED]], %[[SIXTEEN]] : vector<8xi32>
// CHECK-NEXT:    %[[NARROW:.*]] = arith.trunci %[[TOP]] : vector<8xi32> to vector<8xi16>
// CHECK-NEXT:    %[[PICK:.*]] = arith.select %[[NAN]], %[[QNAN]], %[[NARROW]] : vector<8xi1>, vector<8xi16>
// CHECK-NEXT:    arith.bitcast %[[PICK]] : vector<8xi16> to vector<8xbf16>
// CHECK-NOT:     arith.truncf
// CHECK:         return
func.func @round_to_bf16(%x: vector<8xf32>) -> vector<8xbf16> {
  %r = arith.truncf %x : vector<8xf32> to vector<8xbf16>
  return %r : vector<8xbf16>
}

// CHECK-LABEL: func @widen_from_bf16
// CHECK-NOT:     arith.extf
// CHECK:         arith.bitcast %{{.*}} : bf16 to i16
// CHECK:         arith.extui %{{.*}} : i16 to i32
// CHECK:         arith.shli
// CHECK:         arith.bitcast %{{.*}} : i32 to f32
func.func @widen_from_bf16(%x: bf16) -> f32 {
  %r = arith.extf %x : bf16 to f32
  return %r : f32
}

// CHECK-LABEL: func @others_left
// CHECK:         arith.maxnumf
// CHECK:         arith.truncf %{{.*}} : vector<8xf32> to vector<8xf16>
func.func @others_left(%x: vector<8xf32>, %y: vector<8xf32>) -> vector<8xf16> {
  %m = arith.maxnumf %x, %y : vector<8xf32>
  %r = arith.truncf %m : vector<8xf32> to vector<8xf16>
  return %r : vector<8xf16>
}
