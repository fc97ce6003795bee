// RUN: attn-opt %s --attn-merge-gpu-modules | FileCheck %s

// Two outlined kernels (two attention steps) of the same name in two
// gpu.modules become one gpu.module; the second kernel is renamed and both
// launches follow.
// CHECK-LABEL: func.func @model
// CHECK:         gpu.launch_func @attn_kernels::@model_kernel blocks
// CHECK:         gpu.launch_func @attn_kernels::@model_kernel_1 blocks
// CHECK:       gpu.module @attn_kernels {
// CHECK-NEXT:    gpu.func @model_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK:         gpu.func @model_kernel_1(%{{.*}}: memref<4xf32>) kernel
// CHECK-NOT:   gpu.module
module attributes {gpu.container_module} {
  func.func @model(%x: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @model_kernel::@model_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    gpu.launch_func @model_kernel_0::@model_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    return
  }
  gpu.module @model_kernel {
    gpu.func @model_kernel(%arg0: memref<4xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @model_kernel_0 {
    gpu.func @model_kernel(%arg0: memref<4xf32>) kernel {
      gpu.return
    }
  }
}
