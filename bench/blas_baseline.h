/*===- blas_baseline.h - Attention from OpenBLAS sgemm tiles --------*- C -*-===*/

#ifndef ATTNC_BENCH_BLAS_BASELINE_H
#define ATTNC_BENCH_BLAS_BASELINE_H

/* Single-head scaled dot-product attention, q [nq, d], k and v [nk, d],
 * o [nq, d], row-major; causal aligned at the bottom right like attnc. */
void blas_attention(const float *q, const float *k, const float *v, float *o,
                    int nq, int nk, int d, int causal);
void blas_use_one_thread(void);

#endif
