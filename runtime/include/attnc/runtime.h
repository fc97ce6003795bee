/*===- runtime.h - Host-side support linked into every compiled model -*- C
 *-*-===*
 *
 * Not for users: the entry points that attnc generates for a model M call
 * into this library (linked statically, with hidden visibility, into each
 * .so). attnc_M(args, nargs) is
 *
 *     static void *M_signature_cache; // NULL until the first call
 *     return attnc_rt_invoke_cached(M_signature_json, &M_signature_cache,
 *                                   args, nargs, M_thunk);
 *
 * attnc_rt_invoke parses the signature, checks every argument (count, rank,
 * dtype, static and dynamic dimensions consistent across arguments, null
 * data, strides, outputs overlapping other arguments), builds one MLIR memref
 * descriptor per argument and calls the thunk with an array of pointers to
 * them, in argument order. A descriptor of rank R is laid out as
 *     { void *allocated; void *aligned; int64_t offset;
 *       int64_t sizes[R]; int64_t strides[R]; }
 * (allocated == aligned == data, offset 0, strides row-major contiguous).
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNC_RUNTIME_H
#define ATTNC_RUNTIME_H

#include "attnc/attnc.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*attnc_rt_thunk)(void **descriptors);

/* Limits of attnc_rt_invoke: it works on fixed storage (the only host-side
 * allocation is the cached signature of attnc_rt_invoke_cached, once per
 * model), hence a bounded number of arguments. The rank limit is
 * ATTNC_MAX_RANK from attnc.h. */
#define ATTNC_RT_MAX_ARGS 64

/* Return codes of attnc_rt_invoke, one per class of refusal, so that callers
 * (and tests) can tell them apart without parsing the message. */
enum {
  ATTNC_RT_OK = 0,
  ATTNC_RT_ERR_NARGS = 1,     /* wrong nargs, or args == NULL */
  ATTNC_RT_ERR_TYPE = 2,      /* rank or dtype differs from the signature */
  ATTNC_RT_ERR_SHAPE = 3,     /* negative size, static size differs, dynamic
                                 dimension inconsistent across arguments, or
                                 element count / byte size overflows */
  ATTNC_RT_ERR_NULL_DATA = 4, /* data == NULL for a non-empty tensor */
  ATTNC_RT_ERR_STRIDES = 5,   /* not a contiguous row-major layout */
  ATTNC_RT_ERR_OVERLAP = 6,   /* an output overlaps another argument */
  ATTNC_RT_ERR_SIGNATURE = 7, /* the signature JSON is malformed or exceeds
                                 ATTNC_RT_MAX_ARGS / ATTNC_MAX_RANK */
  ATTNC_RT_ERR_NO_MEMORY = 8, /* a temporary buffer could not be allocated,
                                 on any thread (outputs may then be partly
                                 written) */
  ATTNC_RT_ERR_CUDA = 9,      /* CUDA entry points only: the driver library
                                 could not be opened (the message names it
                                 and gives dlerror()), lacks a function, has
                                 no device, or a driver call failed (the
                                 message names the call and the CUDA error;
                                 outputs may then be partly written) */
  ATTNC_RT_ERR_DEVICE_POINTER = 10, /* attnc_rt_invoke_cuda_cached only: a
                                 non-empty argument's data is not device
                                 (or managed) memory of the CUDA driver */
  ATTNC_RT_ERR_CPU_STATE = 11 /* attnc_rt_invoke_amx_cached only: the
                                 kernels use the AMX tile unit and the OS
                                 refused the process its tile state */
};

/* The allocation functions of the kernels' memref.alloc/dealloc (MLIR's
 * "generic" allocation functions): like malloc/free, callable from any
 * thread while a call is in progress (the invoking thread and the worker
 * threads of a parallel kernel alike). Each block belongs to the call in
 * progress (with several calls of the same .so in progress at once, a block
 * from a thread other than an invoking one belongs to all of them and is
 * freed once none is in progress); whatever a call's kernel did not free is
 * freed when the call ends, so a call never leaks.
 *
 * A failed allocation, exactly:
 *  - on the thread that called attnc_rt_invoke, when no OpenMP parallel
 *    region was opened since the call began (always, for today's serial
 *    kernels): does not return; control goes back to attnc_rt_invoke
 *    (longjmp on that same thread), which frees the call's blocks and
 *    returns ATTNC_RT_ERR_NO_MEMORY;
 *  - on any other thread, or inside a parallel region: never jumps (not
 *    across threads, not out of a region). It records the failure in the
 *    call (in every call in progress when the thread's call cannot be
 *    told) and returns, for a request of at most 64 KiB (the kernels'
 *    per-tile scratch), a per-thread sink that every such failed request
 *    of the thread shares (the kernel writes garbage there, in bounds, and
 *    runs to its end), NULL for larger ones (allocated outside parallel
 *    loops by the generated code); attnc_rt_invoke then frees the call's
 *    blocks and returns ATTNC_RT_ERR_NO_MEMORY ("... (on a worker
 *    thread)"). Outputs may be partly written.
 * Outside any call (not reachable from outside the .so: these functions
 * are hidden) a failure returns NULL. */
void *_mlir_memref_to_llvm_alloc(size_t size);
void _mlir_memref_to_llvm_free(void *ptr);

/* Returns 0 after calling `thunk`, or non-zero (without calling it) when an
 * argument is refused; the message is then available from
 * attnc_rt_last_error() on this thread. The non-zero values are the
 * ATTNC_RT_ERR_* codes above. Only contiguous row-major tensors are accepted
 * (the strides of dimensions of size 1, and all strides of an empty tensor,
 * are ignored); an empty tensor may have data == NULL. */
int32_t attnc_rt_invoke(const char *signature, attnc_tensor *args,
                        int32_t nargs, attnc_rt_thunk thunk);

/* attnc_rt_invoke that parses `signature` only once: `*cache` (NULL before
 * the first call, then owned by the runtime) receives the parsed signature
 * on the first call that parses it, published atomically, so concurrent
 * first calls are safe (one copy wins, the others are freed). `cache` must
 * be used with a single, constant signature (the generated code passes a
 * global of the model). A malformed signature is not cached: each call
 * reports it like attnc_rt_invoke. The copy (a few hundred bytes per
 * argument) is never freed: it lives as long as the process, and a model
 * .so that is unloaded leaves it behind. */
int32_t attnc_rt_invoke_cached(const char *signature, void **cache,
                               attnc_tensor *args, int32_t nargs,
                               attnc_rt_thunk thunk);

/* attnc_rt_invoke_cached for a model whose kernels use the AMX tile unit
 * (bf16 dot products on a host with AMX-BF16): Linux gives a process the
 * tile state only when asked (arch_prctl ARCH_REQ_XCOMP_PERM for
 * XTILEDATA; a tile instruction before that is SIGILL). The first call
 * asks, for the whole process; a refusal is remembered, and every call then
 * returns ATTNC_RT_ERR_CPU_STATE with the reason, before any check. */
int32_t attnc_rt_invoke_amx_cached(const char *signature, void **cache,
                                   attnc_tensor *args, int32_t nargs,
                                   attnc_rt_thunk thunk);

/* The CUDA entry points (CudaRuntime.c; docs/gpu.md, "The CUDA runtime").
 * Both check the arguments exactly like attnc_rt_invoke_cached (same
 * messages, same codes) before touching the driver, then open the CUDA
 * driver library (libcuda.so.1, or $ATTNC_LIBCUDA) with dlopen on first use
 * -- a model .so never links libcuda -- and run the thunk on the device with
 * the calling thread's current CUDA context (else the primary context of
 * device $ATTNC_CUDA_DEVICE, default 0, which is then made current). The
 * thunk's mgpu* calls (MLIR's gpu-to-llvm ABI, implemented here) cannot
 * report errors: the first failing driver call of the call is recorded and
 * makes the later ones no-ops, and the call returns ATTNC_RT_ERR_CUDA with
 * "attnc_M: CUDA error in cuX: CUDA_ERROR_Y: <text>". Device memory that the
 * thunk allocates and does not free is freed when the call ends, on every
 * path. Both are synchronous with respect to the host: they return after
 * the work on the stream has finished, so outputs are ready on return. */

/* args hold device (or managed) pointers; the work goes on `stream` (a
 * CUstream of the current context; NULL is the legacy default stream).
 * Non-empty arguments that are not device memory are refused with
 * ATTNC_RT_ERR_DEVICE_POINTER; launch errors are reported from the final
 * cuStreamSynchronize. */
int32_t attnc_rt_invoke_cuda_cached(const char *signature, void **cache,
                                    attnc_tensor *args, int32_t nargs,
                                    void *stream, attnc_rt_thunk thunk);

/* args hold host pointers: one device block holds all non-empty arguments;
 * inputs and params are copied to it, the thunk runs on descriptors that
 * point into it, outputs are copied back, and the block is freed (on error
 * paths too; outputs may then be partly written). The work goes on the
 * calling thread's per-thread default stream (CU_STREAM_PER_THREAD). */
int32_t attnc_rt_invoke_cuda_host_cached(const char *signature, void **cache,
                                         attnc_tensor *args, int32_t nargs,
                                         attnc_rt_thunk thunk);

/* The message of the last failure on this thread ("" if none). A later
 * successful call does not clear it. */
const char *attnc_rt_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_H */
