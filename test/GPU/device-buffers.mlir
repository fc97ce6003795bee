// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-device-buffers))' --split-input-file --verify-diagnostics | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-device-buffers,gpu-async-region))' --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=ASYNC

// The host function's buffers become device memory; buffers of index (the
// shapes memref.reshape reads on the host) stay host memory.
// CHECK-LABEL: func.func @buffers(
// CHECK:         %[[T:.*]] = gpu.alloc (%{{.*}}) : memref<?x8xf32>
// CHECK:         %[[SHAPE:.*]] = memref.alloc() : memref<2xindex>
// CHECK:         gpu.launch_func @kernels::@k {{.*}} args(%{{.*}} : memref<?x8xf32>, %[[T]] : memref<?x8xf32>)
// CHECK:         memref.dealloc %[[SHAPE]] : memref<2xindex>
// CHECK:         gpu.dealloc %[[T]] : memref<?x8xf32>
// With gpu-async-region, the GPU work on the call's stream (the runtime's
// mgpuStreamCreate returns it), in order; a host op with side effects in
// between (the host buffer of index) waits for the stream first.
// ASYNC-LABEL: func.func @buffers(
// ASYNC:         %[[T0:.*]] = gpu.wait async
// ASYNC:         %[[T:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] (%{{.*}}) : memref<?x8xf32>
// ASYNC:         gpu.wait [%[[T1]]]
// ASYNC:         memref.alloc() : memref<2xindex>
// ASYNC:         %[[T2:.*]] = gpu.wait async
// ASYNC:         %[[T3:.*]] = gpu.launch_func async [%[[T2]]] @kernels::@k
// ASYNC:         gpu.wait [%[[T3]]]
// ASYNC:         memref.dealloc
// ASYNC:         %[[T4:.*]] = gpu.wait async
// ASYNC:         %[[T5:.*]] = gpu.dealloc async [%[[T4]]] %[[T]]
// ASYNC:         gpu.wait [%[[T5]]]
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%x: memref<?x8xf32>, %t: memref<?x8xf32>) kernel {
      gpu.return
    }
  }
  func.func @buffers(%x: memref<?x8xf32>, %n: index) {
    %c1 = arith.constant 1 : index
    %t = memref.alloc(%n) : memref<?x8xf32>
    %shape = memref.alloc() : memref<2xindex>
    gpu.launch_func @kernels::@k blocks in (%n, %c1, %c1) threads in (%c1, %c1, %c1)
        args(%x : memref<?x8xf32>, %t : memref<?x8xf32>)
    memref.dealloc %shape : memref<2xindex>
    memref.dealloc %t : memref<?x8xf32>
    return
  }
}

// -----

// Host code that reads device memory is refused where it is.
func.func @host_read(%x: memref<?xf32>, %y: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{the cuda target does not support 'memref.load' in the host code of a library yet (it would read or write device memory on the host)}}
  %v = memref.load %x[%c0] : memref<?xf32>
  // expected-error @+1 {{the cuda target does not support 'memref.store' in the host code of a library yet}}
  memref.store %v, %y[%c0] : memref<?xf32>
  return
}
