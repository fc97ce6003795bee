// RUN: attn-opt %s --attn-serial-host-kernels --split-input-file --verify-diagnostics | FileCheck %s

// A scalar param read on the host for a kernel moves into the kernel; a
// glue loop over the rows of a buffer becomes a kernel of one thread.
// CHECK-LABEL: func.func @glue(
// CHECK-SAME:      %[[Y:.*]]: memref<?x10xf32>, %[[S:.*]]: memref<f32>, %[[OUT:.*]]: memref<?xf32>)
// CHECK-NOT:     memref.load
// CHECK:         gpu.launch blocks(%[[BX:[a-z0-9_]+]], %{{.*}}, %{{.*}}) in
// CHECK-NEXT:      %[[BIAS:.*]] = memref.load %[[S]][] : memref<f32>
// CHECK-NEXT:      memref.store %[[BIAS]], %[[OUT]][%[[BX]]]
// CHECK:         %[[ONE:.*]] = arith.constant 1 : index
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]]) threads({{.*}}) in (%{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]], %{{.*}} = %[[ONE]])
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        scf.for
// CHECK-NEXT:          memref.load %[[Y]]
// CHECK:           gpu.terminator
// CHECK-NEXT:    }
// CHECK-NEXT:    return
func.func @glue(%y: memref<?x10xf32>, %s: memref<f32>, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %rows = memref.dim %y, %c0 : memref<?x10xf32>
  %bias = memref.load %s[] : memref<f32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %rows, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %bias, %out[%bx] : memref<?xf32>
    gpu.terminator
  }
  scf.for %r = %c0 to %rows step %c1 {
    scf.for %j = %c0 to %c10 step %c1 {
      %v = memref.load %y[%r, %j] : memref<?x10xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %y[%r, %j] : memref<?x10xf32>
    }
  }
  return
}

// -----

// Buffers of index (the shapes memref.reshape reads) are host memory: the
// host code may fill and read them.
// CHECK-LABEL: func.func @shapes(
// CHECK-NOT:     gpu.launch
// CHECK:         memref.store
// CHECK:         memref.load
// CHECK:         return
func.func @shapes(%n: index) -> index {
  %c0 = arith.constant 0 : index
  %shape = memref.alloc() : memref<2xindex>
  memref.store %n, %shape[%c0] : memref<2xindex>
  %m = memref.load %shape[%c0] : memref<2xindex>
  memref.dealloc %shape : memref<2xindex>
  return %m : index
}

// -----

// A value of device memory that the host itself uses cannot move into a
// kernel.
func.func @host_use(%s: memref<f32>) -> f32 {
  // expected-error @+1 {{the cuda target does not support 'memref.load' in the host code yet (it reads device memory and the host uses its result)}}
  %v = memref.load %s[] : memref<f32>
  return %v : f32
}

// -----

// A load is not moved past a kernel that writes its buffer: the host use
// is then refused rather than the kernel reading a later value.
func.func @written_between(%s: memref<f32>, %out: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %cst = arith.constant 2.0 : f32
  // expected-error @+1 {{the cuda target does not support 'memref.load' in the host code yet}}
  %v = memref.load %s[] : memref<f32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %cst, %s[] : memref<f32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %v, %out[%bx] : memref<?xf32>
    gpu.terminator
  }
  return
}
