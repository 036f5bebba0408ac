/* A minimal unit-test harness: CHECK records a failure and continues;
 * TEST_MAIN prints "<name>: N passed, M failed" and sets the exit code. */
#ifndef INFER_TEST_UTIL_H
#define INFER_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "infer/status.h"

static int test_checks_passed, test_checks_failed;

#define CHECK(cond)                                                             \
  do {                                                                          \
    if (cond) {                                                                 \
      test_checks_passed++;                                                     \
    } else {                                                                    \
      test_checks_failed++;                                                     \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                           \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
  do {                                                                                   \
    double test_a_ = (a), test_b_ = (b);                                                 \
    if (fabs(test_a_ - test_b_) <= (tol)) {                                              \
      test_checks_passed++;                                                              \
    } else {                                                                             \
      test_checks_failed++;                                                              \
      fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g (tol %g)\n", __FILE__, __LINE__, \
              #a, test_a_, #b, test_b_, (double)(tol));                                  \
    }                                                                                    \
  } while (0)

/* Checks that a call succeeded; prints its message otherwise. */
#define CHECK_OK(expr)                                                                  \
  do {                                                                                  \
    InferStatus *test_st_ = (expr);                                                     \
    if (!test_st_) {                                                                    \
      test_checks_passed++;                                                             \
    } else {                                                                            \
      test_checks_failed++;                                                             \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,              \
              infer_status_message(test_st_));                                          \
      infer_status_free(test_st_);                                                      \
    }                                                                                   \
  } while (0)

/* Checks that a call failed with `code`; the message is returned through
 * `msg_buf` (may be NULL) for further checks. */
#define CHECK_FAILS(expr, code, msg_buf)                                                \
  do {                                                                                  \
    InferStatus *test_st_ = (expr);                                                     \
    if (test_st_ && infer_status_code(test_st_) == (code)) {                            \
      test_checks_passed++;                                                             \
    } else {                                                                            \
      test_checks_failed++;                                                             \
      fprintf(stderr, "%s:%d: %s: expected %s, got %s (%s)\n", __FILE__, __LINE__,      \
              #expr, infer_status_code_name(code),                                      \
              infer_status_code_name(infer_status_code(test_st_)),                      \
              infer_status_message(test_st_));                                          \
    }                                                                                   \
    if ((msg_buf) != NULL) {                                                            \
      snprintf((char *)(msg_buf), sizeof(msg_buf), "%s", infer_status_message(test_st_)); \
    }                                                                                   \
    infer_status_free(test_st_);                                                        \
  } while (0)

#define TEST_MAIN_END(name)                                                             \
  do {                                                                                  \
    printf("%s: %d passed, %d failed\n", (name), test_checks_passed, test_checks_failed); \
    return test_checks_failed ? 1 : 0;                                                  \
  } while (0)

#endif
