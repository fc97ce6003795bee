/*===- Runtime.c - Argument checking for compiled models ----------*- C -*-===*
 *
 * The host side of every compiled model: attnc_M(args, nargs) forwards to
 * attnc_rt_invoke_cached with the model's signature JSON, its signature
 * cache and the thunk of the generated code. Everything a caller can get wrong through the C ABI is
 * checked here, before any generated code runs, so that the generated code
 * may assume well-formed, contiguous, non-aliasing memrefs.
 *
 * This library is linked statically, with hidden visibility, into every
 * model .so; it is plain C11 (with pthreads, and Linux's arch_prctl for
 * the AMX tile state). Its global state: the thread-local error message,
 * the parsed signature of each model (one heap copy per model, made on its
 * first call and kept for the life of the process), the registry of the
 * calls in progress with their temporary buffers (under a lock), and the
 * answer to the process's request for the AMX tile state; several models
 * and threads can use it at once.
 *
 *===----------------------------------------------------------------------===*/

/* syscall() and SYS_arch_prctl (the AMX tile state request). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The runtime must neither export nor interpose symbols in the .so it is
 * linked into; the build sets -fvisibility=hidden, and this makes it hold
 * even if the file is compiled some other way. System headers stay outside:
 * declaring libc functions hidden would break the link. */
#pragma GCC visibility push(hidden)
#include "Invoke.h"
#include "Signature.h"
#include "attnc/runtime.h"
#pragma GCC visibility pop

_Static_assert(sizeof(void *) == sizeof(int64_t),
               "memref descriptors store pointers in 64-bit words");

/*===----------------------------------------------------------------------===*
 * Small helpers
 *===----------------------------------------------------------------------===*/

static const char *const kDTypeNames[] = {"f32",  "f64", "f16",
                                          "bf16", "i32", "i64"};
static const size_t kDTypeSizes[] = {4, 8, 2, 2, 4, 8};
#define NUM_DTYPES ((int32_t)(sizeof(kDTypeSizes) / sizeof(kDTypeSizes[0])))

static const char *const kRoleNames[] = {"input", "param", "output"};

size_t attnc_rt_dtype_size(int32_t dtype) {
  return dtype >= 0 && dtype < NUM_DTYPES ? kDTypeSizes[dtype] : 0;
}

const char *attnc_rt_dtype_name(int32_t dtype) {
  return dtype >= 0 && dtype < NUM_DTYPES ? kDTypeNames[dtype] : "?";
}

const char *attnc_rt_role_name(int32_t role) {
  return role >= 0 && role <= ATTNC_ROLE_OUTPUT ? kRoleNames[role] : "?";
}

int attnc_rt_str_eq(attnc_sig_str a, attnc_sig_str b) {
  return a.len == b.len && memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

static int str_is(attnc_sig_str s, const char *lit) {
  size_t n = strlen(lit);
  return (size_t)s.len == n && memcmp(s.ptr, lit, n) == 0;
}

/* Appends to a fixed buffer, silently truncating: messages are best effort
 * but must never overflow. */
typedef struct {
  char *buf;
  size_t cap;
  size_t len;
} msgbuf;

static void mb_vappend(msgbuf *mb, const char *fmt, va_list ap) {
  if (mb->len + 1 >= mb->cap)
    return;
  int n = vsnprintf(mb->buf + mb->len, mb->cap - mb->len, fmt, ap);
  if (n < 0)
    return;
  mb->len += (size_t)n;
  if (mb->len >= mb->cap)
    mb->len = mb->cap - 1;
}

static void mb_append(msgbuf *mb, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mb_vappend(mb, fmt, ap);
  va_end(ap);
}

/*===----------------------------------------------------------------------===*
 * Signature parser
 *
 * A strict reader of exactly the JSON that attnc emits: objects with known
 * keys (each exactly once, in any order), strings, non-negative integers,
 * arrays, arbitrary whitespace between tokens. Anything else is refused with
 * the byte offset, since a signature we cannot read means the .so and this
 * runtime disagree and no call can be checked.
 *===----------------------------------------------------------------------===*/

typedef struct {
  const char *text;
  size_t pos;
  char *err;
  size_t errlen;
} parser;

static int32_t parse_fail(parser *p, const char *fmt, ...) {
  if (p->err && p->errlen > 0) {
    msgbuf mb = {p->err, p->errlen, 0};
    p->err[0] = '\0';
    mb_append(&mb, "bad signature at offset %zu: ", p->pos);
    va_list ap;
    va_start(ap, fmt);
    mb_vappend(&mb, fmt, ap);
    va_end(ap);
  }
  return ATTNC_RT_ERR_SIGNATURE;
}

static void skip_ws(parser *p) {
  for (;;) {
    char c = p->text[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return;
    ++p->pos;
  }
}

/* Describes the current character for messages. */
static const char *cur_desc(parser *p, char *buf, size_t n) {
  unsigned char c = (unsigned char)p->text[p->pos];
  if (c == '\0')
    snprintf(buf, n, "end of text");
  else if (c >= 0x20 && c < 0x7f)
    snprintf(buf, n, "'%c'", c);
  else
    snprintf(buf, n, "byte 0x%02x", c);
  return buf;
}

static int32_t expect_char(parser *p, char c) {
  skip_ws(p);
  if (p->text[p->pos] != c) {
    char d[32];
    return parse_fail(p, "expected '%c' but found %s", c,
                      cur_desc(p, d, sizeof d));
  }
  ++p->pos;
  return 0;
}

/* Reads a JSON string; `out` spans its raw contents. */
static int32_t parse_string(parser *p, attnc_sig_str *out) {
  skip_ws(p);
  if (p->text[p->pos] != '"') {
    char d[32];
    return parse_fail(p, "expected a string but found %s",
                      cur_desc(p, d, sizeof d));
  }
  size_t start = ++p->pos;
  for (;;) {
    unsigned char c = (unsigned char)p->text[p->pos];
    if (c == '"')
      break;
    if (c == '\0')
      return parse_fail(p, "unterminated string");
    if (c < 0x20)
      return parse_fail(p, "control character 0x%02x in a string", c);
    if (c == '\\') {
      char e = p->text[p->pos + 1];
      if (e == 'u') {
        for (int i = 2; i < 6; ++i) {
          char h = p->text[p->pos + i];
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                (h >= 'A' && h <= 'F')))
            return parse_fail(p, "bad \\u escape in a string");
        }
        p->pos += 6;
        continue;
      }
      if (!e || !strchr("\"\\/bfnrt", e))
        return parse_fail(p, "bad escape in a string");
      p->pos += 2;
      continue;
    }
    ++p->pos;
  }
  if (p->pos - start > INT32_MAX)
    return parse_fail(p, "string too long");
  out->ptr = p->text + start;
  out->len = (int32_t)(p->pos - start);
  ++p->pos; /* closing quote */
  return 0;
}

/* Reads a non-negative JSON integer (no sign, fraction or exponent: a size). */
static int32_t parse_size(parser *p, int64_t *out) {
  skip_ws(p);
  const char *s = p->text + p->pos;
  if (!(*s >= '0' && *s <= '9')) {
    char d[32];
    return parse_fail(p, "expected a size but found %s",
                      cur_desc(p, d, sizeof d));
  }
  if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
    return parse_fail(p, "leading zero in a number");
  int64_t v = 0;
  size_t i = 0;
  for (; s[i] >= '0' && s[i] <= '9'; ++i) {
    if (v > (INT64_MAX - (s[i] - '0')) / 10)
      return parse_fail(p, "size out of range");
    v = v * 10 + (s[i] - '0');
  }
  if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
    return parse_fail(p, "a size must be an integer");
  p->pos += i;
  *out = v;
  return 0;
}

/* Reads the next object key and the ':' after it. */
static int32_t parse_key(parser *p, attnc_sig_str *key) {
  int32_t rc = parse_string(p, key);
  if (rc)
    return rc;
  return expect_char(p, ':');
}

/* After an element of an array/object: 1 if another follows (',' consumed),
 * 0 at the closing `close` (consumed), an error otherwise. */
static int32_t next_or_close(parser *p, char close, int *more) {
  skip_ws(p);
  char c = p->text[p->pos];
  if (c == ',') {
    ++p->pos;
    *more = 1;
    return 0;
  }
  if (c == close) {
    ++p->pos;
    *more = 0;
    return 0;
  }
  char d[32];
  return parse_fail(p, "expected ',' or '%c' but found %s", close,
                    cur_desc(p, d, sizeof d));
}

/* Consumes `open` and reports whether the container is empty. */
static int32_t open_container(parser *p, char open, char close, int *empty) {
  int32_t rc = expect_char(p, open);
  if (rc)
    return rc;
  skip_ws(p);
  *empty = p->text[p->pos] == close;
  if (*empty)
    ++p->pos;
  return 0;
}

static int32_t dup_key(parser *p, attnc_sig_str key) {
  return parse_fail(p, "duplicate key \"%.*s\"", (int)key.len, key.ptr);
}

static int32_t parse_shape(parser *p, attnc_sig_arg *arg) {
  int empty;
  int32_t rc = open_container(p, '[', ']', &empty);
  if (rc)
    return rc;
  arg->rank = 0;
  for (int more = !empty; more;) {
    if (arg->rank == ATTNC_MAX_RANK)
      return parse_fail(p, "rank exceeds the maximum of %d", ATTNC_MAX_RANK);
    attnc_sig_dim *dim = &arg->dims[arg->rank];
    skip_ws(p);
    if (p->text[p->pos] == '"') {
      if ((rc = parse_string(p, &dim->dyn)))
        return rc;
      if (dim->dyn.len == 0)
        return parse_fail(p, "empty dimension name");
      dim->size = -1;
    } else {
      if ((rc = parse_size(p, &dim->size)))
        return rc;
      dim->dyn.ptr = "";
      dim->dyn.len = 0;
    }
    ++arg->rank;
    if ((rc = next_or_close(p, ']', &more)))
      return rc;
  }
  return 0;
}

static int32_t parse_arg(parser *p, attnc_sig_arg *arg) {
  int empty;
  int32_t rc = open_container(p, '{', '}', &empty);
  if (rc)
    return rc;
  int haveName = 0, haveRole = 0, haveDType = 0, haveShape = 0;
  for (int more = !empty; more;) {
    attnc_sig_str key;
    size_t keyPos = p->pos;
    if ((rc = parse_key(p, &key)))
      return rc;
    if (str_is(key, "name")) {
      if (haveName++)
        return dup_key(p, key);
      if ((rc = parse_string(p, &arg->name)))
        return rc;
      if (arg->name.len == 0)
        return parse_fail(p, "empty argument name");
    } else if (str_is(key, "role")) {
      if (haveRole++)
        return dup_key(p, key);
      attnc_sig_str v;
      if ((rc = parse_string(p, &v)))
        return rc;
      arg->role = -1;
      for (int32_t r = 0; r <= ATTNC_ROLE_OUTPUT; ++r)
        if (str_is(v, kRoleNames[r]))
          arg->role = r;
      if (arg->role < 0)
        return parse_fail(p, "unknown role \"%.*s\"", (int)v.len, v.ptr);
    } else if (str_is(key, "dtype")) {
      if (haveDType++)
        return dup_key(p, key);
      attnc_sig_str v;
      if ((rc = parse_string(p, &v)))
        return rc;
      arg->dtype = -1;
      for (int32_t t = 0; t < NUM_DTYPES; ++t)
        if (str_is(v, kDTypeNames[t]))
          arg->dtype = t;
      if (arg->dtype < 0)
        return parse_fail(p, "unknown dtype \"%.*s\"", (int)v.len, v.ptr);
    } else if (str_is(key, "shape")) {
      if (haveShape++)
        return dup_key(p, key);
      if ((rc = parse_shape(p, arg)))
        return rc;
    } else {
      p->pos = keyPos;
      skip_ws(p);
      return parse_fail(p, "unknown key \"%.*s\" in an argument", (int)key.len,
                        key.ptr);
    }
    if ((rc = next_or_close(p, '}', &more)))
      return rc;
  }
  if (!haveName || !haveRole || !haveDType || !haveShape)
    return parse_fail(p, "argument without \"%s\"",
                      !haveName    ? "name"
                      : !haveRole  ? "role"
                      : !haveDType ? "dtype"
                                   : "shape");
  return 0;
}

int32_t attnc_rt_parse_signature(const char *json, attnc_signature *sig,
                                 char *err, size_t errlen) {
  parser p = {json ? json : "", 0, err, errlen};
  if (err && errlen)
    err[0] = '\0';
  sig->name.ptr = "";
  sig->name.len = 0;
  sig->nargs = 0;
  if (!json)
    return parse_fail(&p, "no signature");

  int empty;
  int32_t rc = open_container(&p, '{', '}', &empty);
  if (rc)
    return rc;
  int haveName = 0, haveArgs = 0;
  for (int more = !empty; more;) {
    attnc_sig_str key;
    size_t keyPos = p.pos;
    if ((rc = parse_key(&p, &key)))
      return rc;
    if (str_is(key, "name")) {
      if (haveName++)
        return dup_key(&p, key);
      if ((rc = parse_string(&p, &sig->name)))
        return rc;
      if (sig->name.len == 0)
        return parse_fail(&p, "empty model name");
    } else if (str_is(key, "args")) {
      if (haveArgs++)
        return dup_key(&p, key);
      int noArgs;
      if ((rc = open_container(&p, '[', ']', &noArgs)))
        return rc;
      for (int moreArgs = !noArgs; moreArgs;) {
        if (sig->nargs == ATTNC_RT_MAX_ARGS)
          return parse_fail(&p, "more than %d arguments", ATTNC_RT_MAX_ARGS);
        if ((rc = parse_arg(&p, &sig->args[sig->nargs])))
          return rc;
        ++sig->nargs;
        if ((rc = next_or_close(&p, ']', &moreArgs)))
          return rc;
      }
    } else {
      p.pos = keyPos;
      skip_ws(&p);
      return parse_fail(&p, "unknown key \"%.*s\"", (int)key.len, key.ptr);
    }
    if ((rc = next_or_close(&p, '}', &more)))
      return rc;
  }
  if (!haveName || !haveArgs)
    return parse_fail(&p, "signature without \"%s\"",
                      !haveName ? "name" : "args");
  skip_ws(&p);
  if (p.text[p.pos] != '\0') {
    char d[32];
    return parse_fail(&p, "trailing %s after the signature",
                      cur_desc(&p, d, sizeof d));
  }
  return 0;
}

/*===----------------------------------------------------------------------===*
 * Argument checks
 *===----------------------------------------------------------------------===*/

static _Thread_local char lastError[1024];

const char *attnc_rt_last_error(void) { return lastError; }

/* The state of one attnc_rt_invoke, for messages (Invoke.h). */
typedef attnc_rt_call call;

/* Sets the thread's message to "attnc_M: <fmt>" and returns `code`. */
static int32_t vrefuse(const call *c, int32_t code, const char *fmt,
                       va_list ap) {
  msgbuf mb = {lastError, sizeof lastError, 0};
  lastError[0] = '\0';
  if (c->sig->name.len)
    mb_append(&mb, "attnc_%.*s: ", (int)c->sig->name.len, c->sig->name.ptr);
  else
    mb_append(&mb, "attnc: ");
  mb_vappend(&mb, fmt, ap);
  return code;
}

static int32_t refuse(const call *c, int32_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrefuse(c, code, fmt, ap);
  va_end(ap);
  return code;
}

int32_t attnc_rt_refuse(const attnc_rt_call *c, int32_t code, const char *fmt,
                        ...) {
  va_list ap;
  va_start(ap, fmt);
  vrefuse(c, code, fmt, ap);
  va_end(ap);
  return code;
}

/* "argument 'X' (#0)" */
static const char *arg_desc(const call *c, int32_t i, char *buf, size_t n) {
  const attnc_sig_arg *a = &c->sig->args[i];
  snprintf(buf, n, "%s '%.*s' (#%d)",
           a->role == ATTNC_ROLE_OUTPUT ? "output" : "argument",
           (int)a->name.len, a->name.ptr, (int)i);
  return buf;
}

const char *attnc_rt_arg_desc(const attnc_rt_call *c, int32_t i, char *buf,
                              size_t n) {
  return arg_desc(c, i, buf, n);
}

/* "f32[b, n, 64]" (from the signature) */
static const char *sig_type(const attnc_sig_arg *a, char *buf, size_t n) {
  msgbuf mb = {buf, n, 0};
  buf[0] = '\0';
  mb_append(&mb, "%s[", attnc_rt_dtype_name(a->dtype));
  for (int32_t d = 0; d < a->rank; ++d) {
    if (a->dims[d].size >= 0)
      mb_append(&mb, "%s%lld", d ? ", " : "", (long long)a->dims[d].size);
    else
      mb_append(&mb, "%s%.*s", d ? ", " : "", (int)a->dims[d].dyn.len,
                a->dims[d].dyn.ptr);
  }
  mb_append(&mb, "]");
  return buf;
}

/* "[2, 17, 64]" (from the argument; only valid once the rank was checked) */
static const char *arg_shape(const attnc_tensor *t, char *buf, size_t n) {
  msgbuf mb = {buf, n, 0};
  buf[0] = '\0';
  mb_append(&mb, "[");
  for (int32_t d = 0; d < t->rank; ++d)
    mb_append(&mb, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
  mb_append(&mb, "]");
  return buf;
}

/* Checks the sizes of argument `i`; `order[0..pos)` are the arguments checked
 * before it (they determine the dynamic dimensions). */
static int32_t check_shape(const call *c, const int32_t *order, int32_t pos) {
  int32_t i = order[pos];
  const attnc_sig_arg *a = &c->sig->args[i];
  const attnc_tensor *t = &c->args[i];
  char ad[192], st[192], as[192];
  for (int32_t d = 0; d < a->rank; ++d) {
    int64_t size = t->shape[d];
    if (size < 0)
      return refuse(c, ATTNC_RT_ERR_SHAPE,
                    "%s: dimension %d has negative size %lld (shape %s)",
                    arg_desc(c, i, ad, sizeof ad), (int)d, (long long)size,
                    arg_shape(t, as, sizeof as));
    if (a->dims[d].size >= 0) {
      if (size != a->dims[d].size)
        return refuse(c, ATTNC_RT_ERR_SHAPE,
                      "%s: dimension %d is %lld but must be %lld (shape %s, "
                      "expected %s)",
                      arg_desc(c, i, ad, sizeof ad), (int)d, (long long)size,
                      (long long)a->dims[d].size, arg_shape(t, as, sizeof as),
                      sig_type(a, st, sizeof st));
      continue;
    }
    /* The first occurrence of the name, in checking order, fixes its value;
     * every occurrence checked so far agrees with it. */
    for (int32_t q = 0; q <= pos; ++q) {
      int32_t j = order[q];
      const attnc_sig_arg *b = &c->sig->args[j];
      int32_t end = q == pos ? d : b->rank;
      int32_t e = 0;
      for (; e < end; ++e)
        if (b->dims[e].size < 0 &&
            attnc_rt_str_eq(b->dims[e].dyn, a->dims[d].dyn))
          break;
      if (e == end)
        continue;
      int64_t want = c->args[j].shape[e];
      if (size != want) {
        char bd[192];
        return refuse(c, ATTNC_RT_ERR_SHAPE,
                      "%s: dimension %d is %lld but '%.*s' is %lld from "
                      "dimension %d of %s (shape %s, expected %s)",
                      arg_desc(c, i, ad, sizeof ad), (int)d, (long long)size,
                      (int)a->dims[d].dyn.len, a->dims[d].dyn.ptr,
                      (long long)want, (int)e, arg_desc(c, j, bd, sizeof bd),
                      arg_shape(t, as, sizeof as), sig_type(a, st, sizeof st));
      }
      break;
    }
  }
  return 0;
}

/*===----------------------------------------------------------------------===*
 * Memory of the kernels
 *
 * The kernels' memref.alloc/dealloc are lowered to MLIR's generic allocation
 * functions, defined here, so that a failed allocation ends the call with
 * ATTNC_RT_ERR_NO_MEMORY instead of a crash, and so that whatever a call
 * allocated is freed when it ends, whichever thread allocated it.
 *
 * Every attnc_rt_invoke has a call context (on its stack) holding the list
 * of its live blocks under a lock. The invoking thread finds it through a
 * thread-local pointer. Any other thread (the worker threads of a parallel
 * kernel) finds it through the registry of the calls in progress: these
 * functions are hidden in the model's .so, so only its kernels call them,
 * and only while some call of this .so is in progress. With one call in
 * progress the block is that call's; with several, the thread cannot tell
 * which it works for, and the block goes to a shared list of "orphans",
 * which is emptied when no call is in progress any more. A block header (32
 * bytes, so malloc's 16-byte alignment is kept) names the list it is on
 * and its size.
 *
 * Large blocks (the packed keys and values of the blocked kernels: O(n d)
 * per call) are kept when freed, a few of them, for the next calls: malloc
 * gives such sizes fresh pages from mmap and returns them on free, so every
 * call would otherwise page-fault through its buffers again (15% of the
 * time of 8 heads of n = 1024, d = 64 on one thread). At most
 * ATTNC_RT_CACHE_SLOTS blocks and ATTNC_RT_CACHE_BYTES bytes are kept; a
 * block is reused for a request of at least half its size; they are freed
 * when the library is unloaded.
 *
 * A failed allocation (see runtime.h for the contract):
 *  - on the invoking thread, outside any OpenMP parallel region opened
 *    during the call: jumps back to attnc_rt_invoke (longjmp on the same
 *    thread), which frees the call's blocks and refuses the call;
 *  - anywhere else: marks the call failed (all calls in progress, for an
 *    orphan) and returns NULL. Nothing jumps across threads; the kernel goes
 *    on (code that allocates in parallel regions must check for NULL), and
 *    when the thunk returns, attnc_rt_invoke frees the call's blocks and
 *    returns ATTNC_RT_ERR_NO_MEMORY.
 *===----------------------------------------------------------------------===*/

struct callctx;

typedef struct block {
  struct block *prev, *next;
  struct callctx *list; /* the list the block is on; NULL: none */
  size_t size;          /* bytes after the header */
} block;

_Static_assert(sizeof(block) % 16 == 0, "the header keeps malloc's alignment");

typedef struct callctx {
  pthread_mutex_t lock; /* guards blocks */
  block *blocks;        /* live blocks of the call */
  int failed;           /* atomic: an allocation failed somewhere */
  int ompLevel;         /* omp_get_level() when the call began */
  jmp_buf *onFailure;   /* the invoking thread's way back to attnc_rt_invoke */
  struct callctx *prevActive, *nextActive; /* the registry */
} callctx;

/* The registry of the calls in progress in this copy of the runtime (one
 * per model .so) and the orphans' list. */
static pthread_mutex_t registryLock = PTHREAD_MUTEX_INITIALIZER;
static callctx *activeCalls;
static int numActive;
static callctx orphans = {
    PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, NULL, NULL, NULL};

/* The call in progress on this thread, when it is the invoking thread. */
static _Thread_local callctx *currentCall;

/* OpenMP, when the process has it (the kernels will run parallel regions):
 * the invoking thread must not jump out of a region that the kernel opened.
 * A weak reference: without an OpenMP runtime loaded it is NULL. */
extern int omp_get_level(void) __attribute__((weak, visibility("default")));

static int ompLevel(void) { return omp_get_level ? omp_get_level() : 0; }

/* Blocks on some list, for tests. */
static int64_t liveBlocks;

/* For tests: the number of coming allocations that fail as if malloc had. */
static int failNext;

void attnc_rt_fail_next_allocations(int count) {
  __atomic_store_n(&failNext, count, __ATOMIC_RELAXED);
}

/* What a failed allocation that cannot jump returns, when it is small: the
 * generated kernels do not check their per-tile scratch for NULL, and the
 * call has failed anyway (its outputs are not to be read), so a worker's
 * scratch may as well be this per-thread sink, shared by all its failed
 * allocations: the kernel writes garbage, in bounds, and finishes. */
#define ATTNC_RT_SINK_BYTES (64 * 1024)
static _Thread_local _Alignas(64) unsigned char sink[ATTNC_RT_SINK_BYTES];

int64_t attnc_rt_live_blocks(void) {
  return __atomic_load_n(&liveBlocks, __ATOMIC_RELAXED);
}

static void linkBlock(callctx *list, block *b) {
  b->list = list;
  b->prev = NULL;
  pthread_mutex_lock(&list->lock);
  b->next = list->blocks;
  if (list->blocks)
    list->blocks->prev = b;
  list->blocks = b;
  pthread_mutex_unlock(&list->lock);
  __atomic_add_fetch(&liveBlocks, 1, __ATOMIC_RELAXED);
}

/* The list that a block allocated by this thread goes on (NULL outside any
 * call). */
static callctx *listOfThisThread(void) {
  if (currentCall)
    return currentCall;
  pthread_mutex_lock(&registryLock);
  callctx *list = numActive == 0   ? NULL
                  : numActive == 1 ? activeCalls
                                   : &orphans;
  pthread_mutex_unlock(&registryLock);
  return list;
}

/* The cache of large freed blocks (see above). */
#define ATTNC_RT_CACHE_MIN_BYTES ((size_t)256 * 1024)
#define ATTNC_RT_CACHE_BYTES ((size_t)256 * 1024 * 1024)
#define ATTNC_RT_CACHE_SLOTS 8
static pthread_mutex_t cacheLock = PTHREAD_MUTEX_INITIALIZER;
static block *cache[ATTNC_RT_CACHE_SLOTS];
static size_t cachedBytes;

/* A cached block of at least `size` bytes and at most twice that, the
 * smallest such, taken out of the cache; NULL if none. */
static block *takeCached(size_t size) {
  if (size < ATTNC_RT_CACHE_MIN_BYTES)
    return NULL;
  pthread_mutex_lock(&cacheLock);
  int best = -1;
  for (int i = 0; i < ATTNC_RT_CACHE_SLOTS; ++i)
    if (cache[i] && cache[i]->size >= size && cache[i]->size / 2 <= size &&
        (best < 0 || cache[i]->size < cache[best]->size))
      best = i;
  block *b = NULL;
  if (best >= 0) {
    b = cache[best];
    cache[best] = NULL;
    cachedBytes -= b->size;
  }
  pthread_mutex_unlock(&cacheLock);
  return b;
}

/* Frees `b`, or keeps it for later calls when it is large: in an empty
 * slot, or in place of a smaller cached block (which is freed). */
static void releaseBlock(block *b) {
  if (b->size >= ATTNC_RT_CACHE_MIN_BYTES &&
      b->size <= ATTNC_RT_CACHE_BYTES) {
    pthread_mutex_lock(&cacheLock);
    int slot = -1;
    for (int i = 0; i < ATTNC_RT_CACHE_SLOTS && slot < 0; ++i)
      if (!cache[i])
        slot = i;
    if (slot < 0) { /* all taken: the smallest, if smaller than b */
      slot = 0;
      for (int i = 1; i < ATTNC_RT_CACHE_SLOTS; ++i)
        if (cache[i]->size < cache[slot]->size)
          slot = i;
      if (cache[slot]->size >= b->size)
        slot = -1;
    }
    block *evicted = NULL;
    if (slot >= 0) {
      evicted = cache[slot];
      size_t kept = cachedBytes - (evicted ? evicted->size : 0) + b->size;
      if (kept <= ATTNC_RT_CACHE_BYTES) {
        cache[slot] = b;
        cachedBytes = kept;
        b = NULL;
      } else {
        evicted = NULL;
      }
    }
    pthread_mutex_unlock(&cacheLock);
    free(evicted);
  }
  free(b);
}

__attribute__((destructor)) static void freeCache(void) {
  for (int i = 0; i < ATTNC_RT_CACHE_SLOTS; ++i) {
    free(cache[i]);
    cache[i] = NULL;
  }
  cachedBytes = 0;
}

void *_mlir_memref_to_llvm_alloc(size_t size) {
  int injected = __atomic_load_n(&failNext, __ATOMIC_RELAXED) > 0 &&
                 __atomic_sub_fetch(&failNext, 1, __ATOMIC_RELAXED) >= 0;
  block *b = NULL;
  if (!injected && size <= SIZE_MAX - sizeof(block)) {
    b = takeCached(size);
    if (!b && (b = malloc(sizeof(block) + size)))
      b->size = size;
  }
  callctx *list = listOfThisThread();
  if (!b) {
    if (list && list == currentCall && list->onFailure &&
        ompLevel() == list->ompLevel)
      longjmp(*list->onFailure, 1);
    if (list == &orphans) {
      pthread_mutex_lock(&registryLock);
      for (callctx *c = activeCalls; c; c = c->nextActive)
        __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
      pthread_mutex_unlock(&registryLock);
    } else if (list) {
      __atomic_store_n(&list->failed, 1, __ATOMIC_RELAXED);
    }
    return list && size <= ATTNC_RT_SINK_BYTES ? sink : NULL;
  }
  if (list)
    linkBlock(list, b);
  else
    b->list = NULL, b->prev = b->next = NULL;
  return b + 1;
}

void _mlir_memref_to_llvm_free(void *ptr) {
  if (!ptr || ptr == sink)
    return;
  block *b = (block *)ptr - 1;
  callctx *list = b->list;
  if (list) {
    pthread_mutex_lock(&list->lock);
    if (b->prev)
      b->prev->next = b->next;
    else
      list->blocks = b->next;
    if (b->next)
      b->next->prev = b->prev;
    pthread_mutex_unlock(&list->lock);
    __atomic_sub_fetch(&liveBlocks, 1, __ATOMIC_RELAXED);
  }
  releaseBlock(b);
}

/* Frees every block on `list`. */
static void freeAll(callctx *list) {
  pthread_mutex_lock(&list->lock);
  block *b = list->blocks;
  list->blocks = NULL;
  pthread_mutex_unlock(&list->lock);
  while (b) {
    block *next = b->next;
    releaseBlock(b);
    __atomic_sub_fetch(&liveBlocks, 1, __ATOMIC_RELAXED);
    b = next;
  }
}

static void registerCall(callctx *c) {
  pthread_mutex_lock(&registryLock);
  c->prevActive = NULL;
  c->nextActive = activeCalls;
  if (activeCalls)
    activeCalls->prevActive = c;
  activeCalls = c;
  ++numActive;
  pthread_mutex_unlock(&registryLock);
}

/* Removes `c` from the registry; the last call out frees the orphans (no
 * kernel of this .so runs any more, so none can still use them). */
static void unregisterCall(callctx *c) {
  pthread_mutex_lock(&registryLock);
  if (c->prevActive)
    c->prevActive->nextActive = c->nextActive;
  else
    activeCalls = c->nextActive;
  if (c->nextActive)
    c->nextActive->prevActive = c->prevActive;
  if (--numActive == 0)
    freeAll(&orphans);
  pthread_mutex_unlock(&registryLock);
}

/* A canonical descriptor word array of the largest rank. */
#define DESC_WORDS (3 + 2 * ATTNC_MAX_RANK)

/* What an empty tensor passed with data == NULL points to: MLIR code may
 * compute addresses from it but never loads, and some lowerings assert on
 * null base pointers. */
static _Alignas(64) unsigned char emptyDummy[64];

/* Runs the thunk in a call context; see "Memory of the kernels". */
static int32_t runKernel(const call *cl, attnc_rt_thunk thunk, void **ptrs) {
  callctx ctx;
  pthread_mutex_init(&ctx.lock, NULL);
  ctx.blocks = NULL;
  ctx.failed = 0;
  ctx.ompLevel = ompLevel();
  callctx *outer = currentCall;
  registerCall(&ctx);
  jmp_buf env;
  ctx.onFailure = &env;
  currentCall = &ctx;
  volatile int jumped = 0;
  if (setjmp(env)) /* (setjmp only in the contexts C allows) */
    jumped = 1;
  else
    thunk(ptrs);
  currentCall = outer;
  unregisterCall(&ctx);
  freeAll(&ctx);
  pthread_mutex_destroy(&ctx.lock);
  if (jumped || __atomic_load_n(&ctx.failed, __ATOMIC_RELAXED))
    return refuse(cl, ATTNC_RT_ERR_NO_MEMORY,
                  "out of memory for the temporary buffers of the call%s",
                  jumped ? "" : " (on a worker thread)");
  return ATTNC_RT_OK;
}

int32_t attnc_rt_run_thunk(const attnc_rt_call *cl, attnc_rt_thunk thunk,
                           void **descs) {
  return runKernel(cl, thunk, descs);
}

static int32_t runThunk(const call *cl, attnc_rt_thunk thunk, void **ptrs,
                        const int64_t *bytes, void *user) {
  (void)bytes, (void)user;
  return runKernel(cl, thunk, ptrs);
}

/* Checks the arguments against the parsed signature, builds the descriptors
 * and hands them to `run` (runThunk: the CPU; CudaRuntime.c: the GPU). */
static int32_t checkAndCall(const attnc_signature *sig, attnc_tensor *args,
                            int32_t nargs, attnc_rt_thunk thunk,
                            attnc_rt_runner run, void *user) {
  call c = {sig, args};
  if (!thunk)
    return refuse(&c, ATTNC_RT_ERR_SIGNATURE, "no entry point to call");

  if (nargs != sig->nargs)
    return refuse(&c, ATTNC_RT_ERR_NARGS, "expected %d arguments but got %d",
                  (int)sig->nargs, (int)nargs);
  if (nargs > 0 && !args)
    return refuse(&c, ATTNC_RT_ERR_NARGS, "args is NULL");

  char ad[192], st[192];

  /* Rank and dtype first: every later check indexes shape[] by the rank. */
  for (int32_t i = 0; i < nargs; ++i) {
    const attnc_sig_arg *a = &sig->args[i];
    const attnc_tensor *t = &args[i];
    if (t->rank != a->rank)
      return refuse(&c, ATTNC_RT_ERR_TYPE,
                    "%s: rank is %d but must be %d (expected %s)",
                    arg_desc(&c, i, ad, sizeof ad), (int)t->rank, (int)a->rank,
                    sig_type(a, st, sizeof st));
    if (t->dtype != a->dtype) {
      if (attnc_rt_dtype_size(t->dtype))
        return refuse(
            &c, ATTNC_RT_ERR_TYPE,
            "%s: dtype is %s but must be %s (expected %s)",
            arg_desc(&c, i, ad, sizeof ad), attnc_rt_dtype_name(t->dtype),
            attnc_rt_dtype_name(a->dtype), sig_type(a, st, sizeof st));
      return refuse(&c, ATTNC_RT_ERR_TYPE,
                    "%s: dtype %d is not an attnc_dtype (expected %s)",
                    arg_desc(&c, i, ad, sizeof ad), (int)t->dtype,
                    sig_type(a, st, sizeof st));
    }
  }

  /* Shapes: inputs and params determine the dynamic dimensions, outputs must
   * agree with them (an output-only dimension is fixed by the first output
   * using it). */
  int32_t order[ATTNC_RT_MAX_ARGS];
  int32_t n = 0;
  for (int32_t i = 0; i < nargs; ++i)
    if (sig->args[i].role != ATTNC_ROLE_OUTPUT)
      order[n++] = i;
  for (int32_t i = 0; i < nargs; ++i)
    if (sig->args[i].role == ATTNC_ROLE_OUTPUT)
      order[n++] = i;
  for (int32_t pos = 0; pos < nargs; ++pos) {
    int32_t rc = check_shape(&c, order, pos);
    if (rc)
      return rc;
  }

  /* Sizes in elements and bytes; a zero dimension makes the tensor empty
   * whatever the others are, so it must not count as an overflow. */
  int64_t bytes[ATTNC_RT_MAX_ARGS];
  for (int32_t i = 0; i < nargs; ++i) {
    const attnc_tensor *t = &args[i];
    int64_t count = 1;
    int empty = 0;
    for (int32_t d = 0; d < t->rank; ++d)
      empty |= t->shape[d] == 0;
    if (empty)
      count = 0;
    for (int32_t d = 0; d < t->rank && !empty; ++d) {
      if (__builtin_mul_overflow(count, t->shape[d], &count))
        count = -1;
      if (count < 0)
        break;
    }
    int64_t b = -1;
    if (count >= 0 && (__builtin_mul_overflow(
                           count, (int64_t)attnc_rt_dtype_size(t->dtype), &b) ||
                       (uint64_t)b > (uint64_t)PTRDIFF_MAX))
      b = -1;
    if (b < 0) {
      char as[192];
      return refuse(
          &c, ATTNC_RT_ERR_SHAPE, "%s: the size of shape %s overflows",
          arg_desc(&c, i, ad, sizeof ad), arg_shape(t, as, sizeof as));
    }
    bytes[i] = b;
  }

  for (int32_t i = 0; i < nargs; ++i)
    if (bytes[i] > 0 && !args[i].data)
      return refuse(&c, ATTNC_RT_ERR_NULL_DATA, "%s: data is NULL",
                    arg_desc(&c, i, ad, sizeof ad));

  /* Only the canonical row-major layout is honoured: the generated code is
   * compiled for identity layouts, so anything else would read the wrong
   * elements rather than fail. A dimension of size 1 is never stepped over,
   * so its stride does not matter. */
  for (int32_t i = 0; i < nargs; ++i) {
    const attnc_tensor *t = &args[i];
    if (bytes[i] == 0)
      continue;
    int64_t expect = 1;
    for (int32_t d = t->rank - 1; d >= 0; --d) {
      if (t->shape[d] != 1 && t->strides[d] != expect)
        return refuse(&c, ATTNC_RT_ERR_STRIDES,
                      "%s: stride of dimension %d is %lld but must be %lld: "
                      "only contiguous row-major layouts are supported",
                      arg_desc(&c, i, ad, sizeof ad), (int)d,
                      (long long)t->strides[d], (long long)expect);
      expect *= t->shape[d];
    }
  }

  /* Outputs are written while inputs are still being read (and outputs are
   * assumed not to alias each other), so any shared byte is refused. */
  for (int32_t i = 0; i < nargs; ++i) {
    if (sig->args[i].role != ATTNC_ROLE_OUTPUT || bytes[i] == 0)
      continue;
    uintptr_t lo = (uintptr_t)args[i].data, hi = lo + (uintptr_t)bytes[i];
    for (int32_t j = 0; j < nargs; ++j) {
      if (j == i || bytes[j] == 0)
        continue;
      uintptr_t lo2 = (uintptr_t)args[j].data, hi2 = lo2 + (uintptr_t)bytes[j];
      if (lo < hi2 && lo2 < hi) {
        char bd[192];
        return refuse(&c, ATTNC_RT_ERR_OVERLAP,
                      "%s overlaps %s in memory: outputs must not share "
                      "memory with any other argument",
                      arg_desc(&c, i, ad, sizeof ad),
                      arg_desc(&c, j, bd, sizeof bd));
      }
    }
  }

  /* MLIR's memref descriptors, in argument order. */
  int64_t desc[ATTNC_RT_MAX_ARGS][DESC_WORDS];
  void *ptrs[ATTNC_RT_MAX_ARGS];
  for (int32_t i = 0; i < nargs; ++i) {
    const attnc_tensor *t = &args[i];
    void *data = t->data ? t->data : (void *)emptyDummy;
    int32_t r = t->rank;
    memcpy(&desc[i][0], &data, sizeof data);
    memcpy(&desc[i][1], &data, sizeof data);
    desc[i][2] = 0;
    /* The product of trailing sizes is bounded by the element count, except
     * in an empty tensor, whose strides are never used: saturate to 0. */
    int64_t stride = 1;
    for (int32_t d = r - 1; d >= 0; --d) {
      desc[i][3 + d] = t->shape[d];
      desc[i][3 + r + d] = stride;
      if (__builtin_mul_overflow(stride, t->shape[d], &stride))
        stride = 0;
    }
    ptrs[i] = desc[i];
  }
  return run(&c, thunk, ptrs, bytes, user);
}

/* attnc_rt_invoke with a runner. */
static int32_t invokeUncached(const char *signature, attnc_tensor *args,
                              int32_t nargs, attnc_rt_thunk thunk,
                              attnc_rt_runner run, void *user) {
  attnc_signature sig;
  call c = {&sig, args};
  char perr[512];
  if (attnc_rt_parse_signature(signature, &sig, perr, sizeof perr))
    return refuse(&c, ATTNC_RT_ERR_SIGNATURE, "%s", perr);
  return checkAndCall(&sig, args, nargs, thunk, run, user);
}

int32_t attnc_rt_invoke(const char *signature, attnc_tensor *args,
                        int32_t nargs, attnc_rt_thunk thunk) {
  return invokeUncached(signature, args, nargs, thunk, runThunk, NULL);
}

/* The first call of a model: parses its signature into a heap copy of just
 * the arguments it has and publishes it in *cache. Returns NULL when the
 * signature is malformed (the caller then reports it as an uncached call
 * would) or no memory is left for the copy (the call goes on uncached). */
static __attribute__((noinline)) const attnc_signature *
cacheSignature(const char *signature, void **cache) {
  attnc_signature sig;
  if (attnc_rt_parse_signature(signature, &sig, NULL, 0))
    return NULL;
  size_t size = offsetof(attnc_signature, args) +
                (size_t)sig.nargs * sizeof(attnc_sig_arg);
  attnc_signature *copy = malloc(size);
  if (!copy)
    return NULL;
  memcpy(copy, &sig, size);
  void *expected = NULL;
  if (__atomic_compare_exchange_n(cache, &expected, (void *)copy, 0,
                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return copy;
  /* Another thread published first: use its copy. */
  free(copy);
  return (const attnc_signature *)expected;
}

int32_t attnc_rt_invoke_with(const char *signature, void **cache,
                             attnc_tensor *args, int32_t nargs,
                             attnc_rt_thunk thunk, attnc_rt_runner run,
                             void *user) {
  const attnc_signature *sig =
      cache ? (const attnc_signature *)__atomic_load_n(cache, __ATOMIC_ACQUIRE)
            : NULL;
  if (!sig && cache)
    sig = cacheSignature(signature, cache);
  if (!sig)
    return invokeUncached(signature, args, nargs, thunk, run, user);
  return checkAndCall(sig, args, nargs, thunk, run, user);
}

int32_t attnc_rt_invoke_cached(const char *signature, void **cache,
                               attnc_tensor *args, int32_t nargs,
                               attnc_rt_thunk thunk) {
  return attnc_rt_invoke_with(signature, cache, args, nargs, thunk, runThunk,
                              NULL);
}

/* Linux's request for an extended state component (asm/prctl.h) and the
 * component of the AMX tile data. */
#define ATTNC_ARCH_REQ_XCOMP_PERM 0x1023
#define ATTNC_XFEATURE_XTILEDATA 18

/* The errno of the process's request (0: granted), set by the first call
 * of an AMX model. */
static int amxRequest = -1;
static pthread_once_t amxOnce = PTHREAD_ONCE_INIT;

static void requestAMX(void) {
#if defined(__x86_64__) && defined(SYS_arch_prctl)
  long r = syscall(SYS_arch_prctl, ATTNC_ARCH_REQ_XCOMP_PERM,
                   ATTNC_XFEATURE_XTILEDATA);
  amxRequest = r == 0 ? 0 : errno;
#else
  amxRequest = ENOSYS;
#endif
}

static void noRequest(void) {}

void attnc_rt_set_amx_request_result(int error) {
  pthread_once(&amxOnce, noRequest);
  amxRequest = error;
}

int32_t attnc_rt_invoke_amx_cached(const char *signature, void **cache,
                                   attnc_tensor *args, int32_t nargs,
                                   attnc_rt_thunk thunk) {
  pthread_once(&amxOnce, requestAMX);
  if (amxRequest != 0) {
    snprintf(lastError, sizeof lastError,
             "attnc: this model's kernels use the AMX tile unit (bf16 dot "
             "products; compile with --amx=false for vdpbf16ps instead), "
             "and the OS refused the tile state: "
             "arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA): %s",
             strerror(amxRequest));
    return ATTNC_RT_ERR_CPU_STATE;
  }
  return attnc_rt_invoke_cached(signature, cache, args, nargs, thunk);
}
