/*===- attnc.h - The C ABI of models compiled by attnc ------------*- C -*-===*
 *
 * Every shared library produced by `attnc` exports, for each model M of the
 * source file:
 *
 *   int32_t     attnc_M(attnc_tensor *args, int32_t nargs);
 *   const char *attnc_M_signature(void);
 *   const char *attnc_M_last_error(void);
 *
 * `args` holds the model's inputs and params in declaration order, then its
 * outputs in declaration order. attnc_M returns 0 on success and non-zero on
 * any bad argument; the message is then in attnc_M_last_error() (per thread).
 * attnc_M_signature() returns JSON describing the arguments:
 *   {"name":"M","args":[{"name":"F","role":"input|param|output",
 *    "dtype":"f32","shape":["N",256]}, ...]}
 * where a string in "shape" is a dynamic dimension.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNC_ATTNC_H
#define ATTNC_ATTNC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  ATTNC_F32 = 0,
  ATTNC_F64 = 1,
  ATTNC_F16 = 2,
  ATTNC_BF16 = 3,
  ATTNC_I32 = 4,
  ATTNC_I64 = 5
} attnc_dtype;

#define ATTNC_MAX_RANK 8

typedef struct {
  void *data;    /* address of element [0,...,0] */
  int32_t dtype; /* an attnc_dtype */
  int32_t rank;  /* at most 8 */
  int64_t shape[ATTNC_MAX_RANK];
  int64_t strides[ATTNC_MAX_RANK]; /* in elements */
} attnc_tensor;

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_ATTNC_H */
