// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// The verifier rules of the alignments: the log-sum-exp is the softmax's.

func.func @lse_sigmoid(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %z: memref<?x1x?xf32>) {
  // expected-error @+1 {{'attn.attention' op lse needs align(softmax), not align(sigmoid)}}
  attn.attention dot align(sigmoid)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) lse(%z : memref<?x1x?xf32>)
  return
}

// -----

func.func @lse_argmax(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>, %z: memref<?x1x?xf32>) {
  // expected-error @+1 {{'attn.online_attention' op lse needs align(softmax), not align(argmax)}}
  attn.online_attention dot align(argmax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) lse(%z : memref<?x1x?xf32>)
  return
}

// -----

func.func @unknown_align(%q: memref<?x1x?x16xf32>, %c: memref<?x?x1x16xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'align' [softmax, sigmoid, argmax]}}
  attn.online_attention dot align(sparsemax)
      ins(%q, %q, %q : memref<?x1x?x16xf32>, memref<?x1x?x16xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>)
  return
}
