/* What every fuzz target and its two drivers share: the libFuzzer entry
 * point (linked with -fsanitize=fuzzer under clang, or with fuzz_driver.c's
 * deterministic main in the gcc builds), temporary files for entry points
 * that take a path, and running an engine on small inputs. */
#ifndef INFER_FUZZ_TARGET_H
#define INFER_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "infer/infer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to `name` in a private temporary folder (removed at exit) and
 * returns its path (static storage, valid until the next call); NULL when
 * it cannot be written. */
const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size);

/* Fails the run (abort, so that both drivers report it) when an error
 * status has no message: every refusal must say what went wrong. */
void fuzz_check_status(const InferStatus *st);

/* Creates a context, binds every input at its declared shape (dynamic dims
 * 1), runs once on zeros and reads the outputs, when the engine's inputs
 * and activations are small; errors are fine, crashes are not. */
void fuzz_run_engine(InferEngine *engine);

/* A CPU engine build of a parsed network with min = opt = max = the
 * declared input shapes (dynamic dims 1; networks with larger inputs are
 * skipped), then fuzz_run_engine. */
void fuzz_build_and_run(const InferNetwork *net);

#endif
