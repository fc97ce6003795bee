// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-nvvm-native-math))' --split-input-file --verify-diagnostics | FileCheck %s

// libdevice calls that are one PTX instruction become LLVM intrinsics and
// their declarations go.
// CHECK-LABEL: gpu.module @attn_kernels
// CHECK-NOT:     llvm.func @__nv_
// CHECK:         llvm.func @kernel
// CHECK:           %[[F:.*]] = llvm.intr.floor(%{{.*}}) : (f32) -> f32
// CHECK:           %[[S:.*]] = llvm.intr.sqrt(%[[F]]) : (f32) -> f32
// CHECK:           %[[D:.*]] = llvm.intr.fabs(%{{.*}}) : (f64) -> f64
// CHECK:           %[[M:.*]] = llvm.intr.fma(%[[S]], %[[S]], %[[S]]) : (f32, f32, f32) -> f32
// CHECK:           %[[R:.*]] = llvm.intr.sqrt(%[[M]]) : (f32) -> f32
// CHECK:           %[[ONE:.*]] = llvm.mlir.constant(1.000000e+00 : f32) : f32
// CHECK:           llvm.fdiv %[[ONE]], %[[R]] : f32
// CHECK-NOT:       llvm.call
module attributes {gpu.container_module} {
  gpu.module @attn_kernels {
    llvm.func @__nv_floorf(f32) -> f32
    llvm.func @__nv_sqrtf(f32) -> f32
    llvm.func @__nv_fabs(f64) -> f64
    llvm.func @__nv_fmaf(f32, f32, f32) -> f32
    llvm.func @__nv_rsqrtf(f32) -> f32
    llvm.func @kernel(%x: f32, %y: f64, %p: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      %f = llvm.call @__nv_floorf(%x) : (f32) -> f32
      %s = llvm.call @__nv_sqrtf(%f) : (f32) -> f32
      %d = llvm.call @__nv_fabs(%y) : (f64) -> f64
      %m = llvm.call @__nv_fmaf(%s, %s, %s) : (f32, f32, f32) -> f32
      %r = llvm.call @__nv_rsqrtf(%m) : (f32) -> f32
      llvm.store %r, %p : f32, !llvm.ptr
      llvm.store %d, %p : f64, !llvm.ptr
      llvm.return
    }
  }
}

// -----

// Functions that are no PTX instruction would need libdevice.
module attributes {gpu.container_module} {
  gpu.module @attn_kernels {
    llvm.func @__nv_powf(f32, f32) -> f32
    llvm.func @kernel(%x: f32, %p: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      // expected-error @+1 {{the cuda target does not support the math function 'powf' in a kernel yet (it is no PTX instruction, and attnc links no libdevice)}}
      %r = llvm.call @__nv_powf(%x, %x) : (f32, f32) -> f32
      llvm.store %r, %p : f32, !llvm.ptr
      llvm.return
    }
  }
}
