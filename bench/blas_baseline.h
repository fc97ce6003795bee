/*===- blas_baseline.h - Attention from OpenBLAS sgemm tiles --------*- C -*-===*/

#ifndef ATTNC_BENCH_BLAS_BASELINE_H
#define ATTNC_BENCH_BLAS_BASELINE_H

/* Single-head scaled dot-product attention, q [nq, d], k and v [nk, d],
 * o [nq, d], row-major; causal aligned at the bottom right like attnc. */
void blas_attention(const float *q, const float *k, const float *v, float *o,
                    int nq, int nk, int d, int causal);
/* Additive (Bahdanau) attention, one query per batch entry:
 * e_l = w^T tanh(W1 q + W2 k_l + b), c = softmax(e) V with V = K.
 * q [B, d], k [B, nk, d], W1 and W2 [dw, d], b and w [dw], o [B, d]. */
void blas_additive(const float *q, const float *k, const float *W1,
                   const float *W2, const float *b, const float *w, float *o,
                   int B, int nk, int d, int dw);
void blas_use_one_thread(void);

#endif
