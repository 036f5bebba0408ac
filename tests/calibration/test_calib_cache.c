/* The calibration cache in TensorRT's text format: writing, reading a cache
 * written by hand, malformed lines with their line numbers, and checking a
 * table against the tensors a network needs.
 * argv[1]: tests/calibration/data/trt_style.cache; argv[2]: a scratch folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/calibration.h"
#include "infer/infer.h"
#include "test_util.h"

static const char *scratch_dir = ".";

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static void test_round_trip(void) {
  InferCalibTable *t;
  CHECK_OK(infer_calib_table_create("EntropyCalibration2", &t));
  const char *names[5] = {"input", "conv:0", "(Unnamed Layer* 3) [Activation]_output", "tiny",
                          "zero"};
  float scales[5] = {1.0f / 127.0f, 0.0532485693693161f, 3.14159265f, from_bits(1), 0.0f};
  for (int i = 0; i < 5; i++) CHECK_OK(infer_calib_table_set(t, names[i], scales[i]));
  CHECK_OK(infer_calib_table_set(t, "conv:0", 2.5f / 127.0f)); /* replaces, keeps the order */
  scales[1] = 2.5f / 127.0f;
  CHECK(infer_calib_table_count(t) == 5);
  char *text;
  size_t len;
  CHECK_OK(infer_calib_table_serialize(t, &text, &len));
  /* 0.1.0 -> "0100", as TensorRT 8.6.1 writes "8601" */
  const char *want =
      "TRT-0100-EntropyCalibration2\n"
      "input: 3c010204\n"
      "conv:0: 3ca14285\n"
      "(Unnamed Layer* 3) [Activation]_output: 40490fdb\n"
      "tiny: 00000001\n"
      "zero: 00000000\n";
  CHECK(strcmp(text, want) == 0);
  CHECK(len == strlen(want));
  if (strcmp(text, want) != 0) fprintf(stderr, "got:\n%s", text);
  free(text);

  char path[1024];
  snprintf(path, sizeof path, "%s/round_trip.cache", scratch_dir);
  CHECK_OK(infer_calib_table_write_cache(t, path));
  InferCalibTable *r = NULL;
  CHECK_OK(infer_calib_table_read_cache(path, &r));
  if (r) {
    CHECK(infer_calib_table_count(r) == 5);
    for (int i = 0; i < 5; i++) {
      CHECK(strcmp(infer_calib_table_name(r, i), names[i]) == 0);
      CHECK(bits(infer_calib_table_scale(r, i)) == bits(scales[i]));
      float s = -1;
      CHECK(infer_calib_table_lookup(r, names[i], &s) && bits(s) == bits(scales[i]));
    }
    CHECK(strcmp(infer_calib_table_calibrator(r), "EntropyCalibration2") == 0);
    CHECK(infer_calib_table_version(r) == 100);
    CHECK(!infer_calib_table_lookup(r, "nope", NULL));
  }
  infer_calib_table_release(r);
  unlink(path);

  char msg[512];
  CHECK_FAILS(infer_calib_table_set(t, "x", -1.0f), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_FAILS(infer_calib_table_set(t, "a\nb", 1.0f), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK(strstr(msg, "line break") != NULL);
  CHECK_FAILS(infer_calib_table_create("two\nlines", &r), INFER_ERR_INVALID_ARGUMENT, msg);
  infer_calib_table_release(t);
}

/* A cache written by hand in TensorRT's format; values checked with
 * python3 -c "import struct; print(struct.pack('>f', 1/127).hex())". */
static void test_trt_cache(const char *path) {
  InferCalibTable *t = NULL;
  CHECK_OK(infer_calib_table_read_cache(path, &t));
  if (!t) return;
  CHECK(infer_calib_table_version(t) == 8601);
  CHECK(strcmp(infer_calib_table_calibrator(t), "EntropyCalibration2") == 0);
  CHECK(infer_calib_table_count(t) == 6);
  float s = 0;
  CHECK(infer_calib_table_lookup(t, "input", &s) && s == 1.0f / 127.0f && bits(s) == 0x3c010204);
  CHECK(infer_calib_table_lookup(t, "conv1", &s) && s == 1.0f);
  CHECK(infer_calib_table_lookup(t, "(Unnamed Layer* 3) [Activation]_output", &s) && s == 0.03125f);
  CHECK(infer_calib_table_lookup(t, "relu:0", &s) && s == 3.14159265f);
  CHECK(infer_calib_table_lookup(t, "prob", &s) && bits(s) == 0x3c010a14);
  CHECK_NEAR(s, 0.007875937968492508, 1e-12);
  /* TensorRT prints the hex without zero padding */
  CHECK(infer_calib_table_lookup(t, "small", &s) && bits(s) == 1);
  infer_calib_table_release(t);
}

static InferStatus *parse(const char *text, InferCalibTable **t) {
  return infer_calib_table_parse(text, strlen(text), "cache.txt", t);
}

static void test_lenient_forms(void) {
  InferCalibTable *t = NULL;
  /* CRLF, blank lines, no final newline, upper-case hex, other versions and names */
  CHECK_OK(parse("TRT-7000-MinMaxCalibration\r\na: 3F800000\r\n\r\nb: 40000000", &t));
  float s;
  CHECK(t && infer_calib_table_count(t) == 2);
  CHECK(infer_calib_table_lookup(t, "a", &s) && s == 1.0f);
  CHECK(infer_calib_table_lookup(t, "b", &s) && s == 2.0f);
  CHECK(t && strcmp(infer_calib_table_calibrator(t), "MinMaxCalibration") == 0);
  infer_calib_table_release(t);
  CHECK_OK(parse("TRT-100001-LegacyCalibration\n", &t));
  CHECK(t && infer_calib_table_count(t) == 0 && infer_calib_table_version(t) == 100001);
  infer_calib_table_release(t);
}

static void test_malformed(void) {
  InferCalibTable *t = NULL;
  char msg[512];
  const char *bad7 =
      "TRT-8601-EntropyCalibration2\n"
      "a: 3c010204\n"
      "b: 3c010204\n"
      "\n"
      "c: 3c010204\n"
      "d: 3c010204\n"
      "this line has no value\n"
      "e: 3c010204\n";
  CHECK_FAILS(parse(bad7, &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:7: expected '<name>: <hex>'") == msg);
  CHECK(strstr(msg, "this line has no value") != NULL);
  CHECK(t == NULL);
  CHECK_FAILS(parse("EntropyCalibration2\na: 3c010204\n", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:1: expected a 'TRT-<version>-<calibrator>' header") == msg);
  CHECK_FAILS(parse("TRT-x-EntropyCalibration2\n", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:1:") == msg);
  CHECK_FAILS(parse("TRT-8601-\n", &t), INFER_ERR_PARSE, msg);
  CHECK_FAILS(parse("", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:1: empty") == msg);
  CHECK_FAILS(parse("TRT-1-X\na: 3c0102045\n", &t), INFER_ERR_PARSE, msg); /* 9 digits */
  CHECK(strstr(msg, "cache.txt:2: expected '<name>: <hex>'") == msg);
  CHECK_FAILS(parse("TRT-1-X\na: 3c01g204\n", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:2:") == msg);
  CHECK_FAILS(parse("TRT-1-X\n: 3c010204\n", &t), INFER_ERR_PARSE, msg); /* no name */
  CHECK(strstr(msg, "cache.txt:2:") == msg);
  CHECK_FAILS(parse("TRT-1-X\na:\n", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:2:") == msg);
  CHECK_FAILS(parse("TRT-1-X\na: 1\nb: 2\n\na: 3\n", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:5: tensor 'a' is listed twice (first on line 2)") == msg);
  CHECK_FAILS(parse("TRT-1-X\na: bf800000\n", &t), INFER_ERR_PARSE, msg); /* -1 */
  CHECK(strstr(msg, "cache.txt:2: tensor 'a': scale -1") == msg);
  CHECK_FAILS(parse("TRT-1-X\nb: 1\nnan: 7fc00000\n", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "cache.txt:3: tensor 'nan'") == msg);
  CHECK_FAILS(infer_calib_table_parse("TRT-1-X\n\0", 9, "bin.cache", &t), INFER_ERR_PARSE, msg);
  CHECK(strstr(msg, "bin.cache") == msg);
  CHECK_FAILS(infer_calib_table_read_cache("/nonexistent/dir/x.cache", &t), INFER_ERR_IO, msg);
  CHECK(strstr(msg, "'/nonexistent/dir/x.cache'") != NULL);
}

static void test_check(void) {
  InferCalibTable *t = NULL;
  CHECK_OK(parse("TRT-8601-EntropyCalibration2\na: 3c010204\nb: 3c010204\nzz: 3c010204\n", &t));
  if (!t) return;
  const char *needed[4] = {"a", "b", "c", "d"};
  InferCalibCheck c;
  char msg[512];
  CHECK_FAILS(infer_calib_table_check(t, needed, 4, &c), INFER_ERR_MISMATCH, msg);
  CHECK(c.n_missing == 2 && strcmp(c.missing[0], "c") == 0 && strcmp(c.missing[1], "d") == 0);
  CHECK(c.n_unknown == 1 && strcmp(c.unknown[0], "zz") == 0);
  CHECK(strstr(msg, "'cache.txt'") != NULL);
  CHECK(strstr(msg, "2 of 4 tensors have no scale: 'c', 'd'") != NULL);
  CHECK(strstr(msg, "1 name is not in the network: 'zz'") != NULL);
  infer_calib_check_clear(&c);
  /* unknown names alone are not an error */
  CHECK_OK(infer_calib_table_check(t, needed, 2, &c));
  CHECK(c.n_missing == 0 && c.n_unknown == 1);
  infer_calib_check_clear(&c);
  CHECK_OK(infer_calib_table_check(t, NULL, 0, &c));
  CHECK(c.n_missing == 0 && c.n_unknown == 3);
  infer_calib_check_clear(&c);
  infer_calib_table_release(t);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s trt_style.cache [scratch-dir]\n", argv[0]);
    return 2;
  }
  if (argc > 2) scratch_dir = argv[2];
  test_round_trip();
  test_trt_cache(argv[1]);
  test_lenient_forms();
  test_malformed();
  test_check();
  TEST_MAIN_END("calibration cache");
}
