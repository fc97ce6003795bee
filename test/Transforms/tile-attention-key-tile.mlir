// RUN: attn-opt %s "--attn-tile-attention=vector-isa=avx2" | FileCheck %s --check-prefix=AVX2
// RUN: attn-opt %s "--attn-tile-attention=vector-isa=avx512" | FileCheck %s --check-prefix=AVX512
// RUN: attn-opt %s "--attn-tile-attention=vector-isa=avx2 tile-size=128" | FileCheck %s --check-prefix=ASKED
//
// The key tile of the blocked dot kernel sized by the cache
// (TargetDescription::blockedKeyTile): on AVX2 the tile of 128 keys doubles
// while its packed keys and values (keys x (D + Dv) floats) fit 128 KiB, up
// to 512 keys: 512 at D = Dv = 16, 256 at 64, 128 at 128; on AVX-512 while
// they fit 256 KiB: 512 at 16 and 64, 256 at 128, 128 at 256. A window (a
// first key per query), a weights output, a dynamic row or an asked-for tile
// size keep 128.

// AVX2-LABEL: func @d16
// AVX2:         attn.online_softmax_update dot key_tile(512)
// AVX512-LABEL: func @d16
// AVX512:       attn.online_softmax_update dot key_tile(512)
// ASKED-LABEL:  func @d16
// ASKED:        attn.online_softmax_update dot key_tile(128)
func.func @d16(%q: memref<1x4x?x16xf32>, %k: memref<1x4x?x16xf32>,
               %c: memref<1x?x4x16xf32>) {
  attn.online_attention dot
      ins(%q, %k, %k : memref<1x4x?x16xf32>, memref<1x4x?x16xf32>, memref<1x4x?x16xf32>)
      outs(%c : memref<1x?x4x16xf32>)
  return
}

// AVX2-LABEL: func @d64_causal
// AVX2:         attn.online_softmax_update dot causal key_tile(256)
// AVX512-LABEL: func @d64_causal
// AVX512:       attn.online_softmax_update dot causal key_tile(512)
func.func @d64_causal(%q: memref<1x1x?x64xf32>, %k: memref<1x1x?x64xf32>,
                      %c: memref<1x?x1x64xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %k : memref<1x1x?x64xf32>, memref<1x1x?x64xf32>, memref<1x1x?x64xf32>)
      outs(%c : memref<1x?x1x64xf32>)
  return
}

// AVX2-LABEL: func @d128
// AVX2:         attn.online_softmax_update dot key_tile(128)
// AVX512-LABEL: func @d128
// AVX512:       attn.online_softmax_update dot key_tile(256)
func.func @d128(%q: memref<1x1x?x128xf32>, %k: memref<1x1x?x128xf32>,
                %c: memref<1x?x1x128xf32>) {
  attn.online_attention dot
      ins(%q, %k, %k : memref<1x1x?x128xf32>, memref<1x1x?x128xf32>, memref<1x1x?x128xf32>)
      outs(%c : memref<1x?x1x128xf32>)
  return
}

// AVX2-LABEL: func @window
// AVX2:         attn.online_softmax_update dot window(256) key_tile(128)
// AVX512-LABEL: func @window
// AVX512:       attn.online_softmax_update dot window(256) key_tile(128)
func.func @window(%q: memref<1x1x?x16xf32>, %k: memref<1x1x?x16xf32>,
                  %c: memref<1x?x1x16xf32>) {
  attn.online_attention dot window(256)
      ins(%q, %k, %k : memref<1x1x?x16xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      outs(%c : memref<1x?x1x16xf32>)
  return
}

// AVX2-LABEL: func @weights
// AVX2:         attn.online_softmax_update dot key_tile(128)
// AVX512-LABEL: func @weights
// AVX512:       attn.online_softmax_update dot key_tile(128)
func.func @weights(%q: memref<1x1x?x16xf32>, %k: memref<1x1x?x16xf32>,
                   %c: memref<1x?x1x16xf32>, %a: memref<1x1x?x?xf32>) {
  attn.online_attention dot
      ins(%q, %k, %k : memref<1x1x?x16xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      outs(%c : memref<1x?x1x16xf32>) weights(%a : memref<1x1x?x?xf32>)
  return
}

// Rows of 256: 256 keys would be 512 KiB, over either description's bound.
// AVX2-LABEL: func @d256
// AVX2:         attn.online_softmax_update dot key_tile(128)
// AVX512-LABEL: func @d256
// AVX512:       attn.online_softmax_update dot key_tile(128)
func.func @d256(%q: memref<1x1x?x256xf32>, %k: memref<1x1x?x256xf32>,
                %c: memref<1x?x1x256xf32>) {
  attn.online_attention dot
      ins(%q, %k, %k : memref<1x1x?x256xf32>, memref<1x1x?x256xf32>, memref<1x1x?x256xf32>)
      outs(%c : memref<1x?x1x256xf32>)
  return
}
