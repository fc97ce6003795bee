// Input on memrefs: the pipelines start after bufferization.
// RUN: attn-opt %s --attn-to-llvm="bufferize=false" | FileCheck %s
// RUN: attn-opt %s --attn-to-llvm="bufferize=false" | FileCheck %s --check-prefix=ONLY-LLVM
// RUN: attn-opt %s --attn-to-llvm="opt-level=0 bufferize=false" | FileCheck %s
// RUN: attn-opt %s --attn-to-llvm="opt-level=0 bufferize=false" | FileCheck %s --check-prefix=ONLY-LLVM
// RUN: attn-opt %s --attn-to-llvm="bufferize=false" | FileCheck %s --check-prefix=THREADS
// RUN: attn-opt %s --attn-to-llvm="bufferize=false threads=false" | FileCheck %s --check-prefix=SERIAL
//
// The attn-to-llvm pipeline (attn-to-loops, then loops-to-llvm) leaves only
// LLVM dialect ops, and a function with llvm.emit_c_interface gets its
// _mlir_ciface_ wrapper, which takes memref descriptors by pointer.

// ONLY-LLVM-NOT: attn.
// ONLY-LLVM-NOT: linalg.
// ONLY-LLVM-NOT: scf.
// ONLY-LLVM-NOT: memref.
// ONLY-LLVM-NOT: arith.
// ONLY-LLVM-NOT: math.
// ONLY-LLVM-NOT: cf.
// ONLY-LLVM-NOT: func.
// ONLY-LLVM-NOT: unrealized_conversion_cast
// Every op of a function body is an llvm op, or an omp op around the
// parallel loop of the tiled form (translated to libomp calls with the LLVM
// IR; threads=false keeps it a serial loop).
// ONLY-LLVM-NOT: {{^ +(%[^ ]+ = )?[a-kmnp-z_][a-z_]*\.}}

// THREADS: omp.parallel
// THREADS: omp.wsloop
// SERIAL-NOT: omp.

// Heap buffers (the [Dv] accumulator, the projections) go through an
// allocation function.
// CHECK-DAG: llvm.func @[[FREE:free|_mlir_memref_to_llvm_free]](!llvm.ptr)
// CHECK-DAG: llvm.func @[[ALLOC:malloc|_mlir_memref_to_llvm_alloc]](i64) -> !llvm.ptr

// The function itself takes the expanded descriptors: 8 memrefs of ranks
// 3, 3, 2, 2, 1, 2, 1, 3.
// CHECK-LABEL: llvm.func @model(
// CHECK-SAME:    %arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: i64,
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// CHECK:         llvm.call @[[ALLOC]](
// CHECK:         llvm.call @[[FREE]](
// CHECK:         llvm.return

// CHECK-LABEL: llvm.func @_mlir_ciface_model(
// CHECK-SAME:    %[[A0:[^:]*]]: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr, %{{[^:]*}}: !llvm.ptr)
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// CHECK-NEXT:    llvm.load %[[A0]] : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)>
// CHECK:         llvm.call @model(
// CHECK-NEXT:    llvm.return

// No wrapper without llvm.emit_c_interface.
// CHECK-LABEL: llvm.func @helper(
// CHECK-NOT:   _mlir_ciface_helper

func.func @model(%x: memref<?x?x16xf32>, %wq: memref<2x8x16xf32>,
                 %wk: memref<8x16xf32>, %wv: memref<8x16xf32>,
                 %len: memref<?xi32>, %wo: memref<4x16xf32>,
                 %bo: memref<4xf32>, %y: memref<?x?x4xf32>)
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %x, %c0 : memref<?x?x16xf32>
  %n = memref.dim %x, %c1 : memref<?x?x16xf32>
  %q = memref.alloc(%b, %n) : memref<?x2x?x8xf32>
  %k = memref.alloc(%b, %n) : memref<?x1x?x8xf32>
  %v = memref.alloc(%b, %n) : memref<?x1x?x8xf32>
  %c = memref.alloc(%b, %n) : memref<?x?x2x8xf32>
  attn.linear ins(%x, %wq : memref<?x?x16xf32>, memref<2x8x16xf32>)
      outs(%q : memref<?x2x?x8xf32>)
  %x4 = memref.expand_shape %x [[0], [1, 2], [3]] output_shape [%b, 1, %n, 16]
      : memref<?x?x16xf32> into memref<?x1x?x16xf32>
  attn.linear ins(%x4, %wk : memref<?x1x?x16xf32>, memref<8x16xf32>)
      outs(%k : memref<?x1x?x8xf32>)
  attn.linear ins(%x4, %wv : memref<?x1x?x16xf32>, memref<8x16xf32>)
      outs(%v : memref<?x1x?x8xf32>)
  attn.attention scaled_dot align(softmax) causal
      ins(%q, %k, %v : memref<?x2x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      lengths(%len : memref<?xi32>) outs(%c : memref<?x?x2x8xf32>)
  %cc = memref.collapse_shape %c [[0], [1], [2, 3]]
      : memref<?x?x2x8xf32> into memref<?x?x16xf32>
  attn.linear ins(%cc, %wo : memref<?x?x16xf32>, memref<4x16xf32>)
      bias(%bo : memref<4xf32>) outs(%y : memref<?x?x4xf32>)
  attn.activation tanh ins(%y : memref<?x?x4xf32>) outs(%y : memref<?x?x4xf32>)
  attn.softmax ins(%y : memref<?x?x4xf32>) outs(%y : memref<?x?x4xf32>)
  memref.dealloc %q : memref<?x2x?x8xf32>
  memref.dealloc %k : memref<?x1x?x8xf32>
  memref.dealloc %v : memref<?x1x?x8xf32>
  memref.dealloc %c : memref<?x?x2x8xf32>
  return
}

func.func @helper(%q: memref<1x1x3x8xf32>, %k: memref<1x1x5x8xf32>,
                  %W1: memref<6x8xf32>, %W2: memref<6x8xf32>, %bw: memref<6xf32>,
                  %w: memref<6xf32>, %c: memref<1x3x1x8xf32>,
                  %a: memref<1x1x3x5xf32>) {
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %k : memref<1x1x3x8xf32>, memref<1x1x5x8xf32>, memref<1x1x5x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %bw, w = %w : memref<6x8xf32>, memref<6x8xf32>, memref<6xf32>, memref<6xf32>)
      outs(%c : memref<1x3x1x8xf32>) weights(%a : memref<1x1x3x5xf32>)
  return
}
