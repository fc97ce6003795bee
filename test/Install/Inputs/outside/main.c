/* Calls the model compiled by attnc_add_model() and checks its result. */
#include "tiny.h"

#include <math.h>
#include <stdio.h>

static attnc_tensor tensor(float *data, int rank, const int64_t *shape) {
  attnc_tensor t = {0};
  t.data = data;
  t.dtype = ATTNC_F32;
  t.rank = rank;
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    stride *= shape[i];
  }
  return t;
}

int main(void) {
  float q[2] = {1.0f, 0.0f};
  float x[6] = {1.0f, 0.0f, 0.0f, 1.0f, -1.0f, 0.0f};
  float y[2] = {0};
  int64_t qs[2] = {1, 2}, xs[3] = {1, 3, 2}, ys[2] = {1, 2};
  attnc_tensor args[3] = {tensor(q, 2, qs), tensor(x, 3, xs), tensor(y, 2, ys)};
  if (attnc_tiny(args, 3) != 0) {
    printf("error: %s\n", attnc_tiny_last_error());
    return 1;
  }
  /* Scores 1, 0, -1: weights e, 1, 1/e over e + 1 + 1/e. */
  double z = exp(1.0) + 1.0 + exp(-1.0);
  double want0 = (exp(1.0) - exp(-1.0)) / z, want1 = 1.0 / z;
  if (fabs(y[0] - want0) > 1e-5 || fabs(y[1] - want1) > 1e-5) {
    printf("wrong: got %f %f, want %f %f\n", y[0], y[1], want0, want1);
    return 1;
  }
  printf("outside project: ok %.6f %.6f\n", y[0], y[1]);
  return 0;
}
