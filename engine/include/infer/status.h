/* Status objects: every fallible call returns one; NULL means success. */
#ifndef INFER_STATUS_H
#define INFER_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum InferStatusCode {
  INFER_OK = 0,
  INFER_ERR_INVALID_ARGUMENT, /* caller passed something wrong */
  INFER_ERR_UNSUPPORTED,      /* valid input the library cannot handle (op, dtype, attribute) */
  INFER_ERR_IO,               /* file missing, unreadable, short read */
  INFER_ERR_PARSE,            /* malformed model / plan / cache */
  INFER_ERR_OUT_OF_MEMORY,
  INFER_ERR_MISMATCH,         /* plan built for another device / version / model */
  INFER_ERR_DEVICE,           /* backend (CUDA, cuDNN, ...) reported an error */
  INFER_ERR_INTERNAL
} InferStatusCode;

typedef struct InferStatus InferStatus;

/* A status whose message is formatted like printf. Never returns NULL for
 * code != INFER_OK: when memory is short a static status is returned. */
InferStatus *infer_status_new(InferStatusCode code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
InferStatus *infer_status_newv(InferStatusCode code, const char *fmt, va_list ap);

/* Returns `st` with "<prefix>: " put in front of its message (for adding
 * the file or node that an inner error happened in). NULL stays NULL. */
InferStatus *infer_status_prefix(InferStatus *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

InferStatusCode infer_status_code(const InferStatus *st);    /* INFER_OK for NULL */
const char *infer_status_message(const InferStatus *st);     /* "" for NULL */
const char *infer_status_code_name(InferStatusCode code);    /* "unsupported", ... */
void infer_status_free(InferStatus *st);                     /* accepts NULL */

/* Propagate an error status to the caller. */
#define INFER_TRY(expr)                  \
  do {                                   \
    InferStatus *infer_try_st_ = (expr); \
    if (infer_try_st_) return infer_try_st_; \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
