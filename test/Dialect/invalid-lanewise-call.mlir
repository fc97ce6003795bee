// RUN: attn-opt %s -split-input-file -verify-diagnostics
//
// attn.lanewise_call names a func.func whose inputs its operands match (the
// same type, or a vector of it with the result's lanes) and whose one
// result is the result's element type.

func.func @missing(%x: vector<4xf32>) -> vector<4xf32> {
  // expected-error @+1 {{'nope' does not name a func.func}}
  %r = attn.lanewise_call @nope(%x) : (vector<4xf32>) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

func.func private @two(%a: f32, %b: index) -> f32
func.func @arity(%x: vector<4xf32>) -> vector<4xf32> {
  // expected-error @+1 {{'two' takes 2 arguments, got 1}}
  %r = attn.lanewise_call @two(%x) : (vector<4xf32>) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

func.func private @f(%a: f32, %b: index) -> f32
func.func @lanes(%x: vector<8xf32>, %i: index) -> vector<4xf32> {
  // expected-error @+1 {{argument #0 must be 'f32' or 'vector<4xf32>', got 'vector<8xf32>'}}
  %r = attn.lanewise_call @f(%x, %i) : (vector<8xf32>, index) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

func.func private @f(%a: f32, %b: index) -> f32
func.func @element(%x: vector<4xf32>, %i: vector<4xi32>) -> vector<4xf32> {
  // expected-error @+1 {{argument #1 must be 'index' or 'vector<4xindex>', got 'vector<4xi32>'}}
  %r = attn.lanewise_call @f(%x, %i) : (vector<4xf32>, vector<4xi32>) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

func.func private @mask(%b: index) -> i1
func.func @result(%i: vector<4xindex>) -> vector<4xf32> {
  // expected-error @+1 {{'mask' must return one 'f32'}}
  %r = attn.lanewise_call @mask(%i) : (vector<4xindex>) -> vector<4xf32>
  return %r : vector<4xf32>
}
