/* The protobuf text format, schema-free: a tokenizer and a recursive-descent
 * parser that turn a prototxt into a CaffeNode tree.
 *
 * Accepted: `name: scalar`, `name { ... }`, `name: { ... }`, `name < ... >`,
 * list values `name: [a, b]`, optional ',' or ';' after a field, '#'
 * comments, quoted strings ('...' or "...", C escapes, adjacent strings
 * joined), numbers (ints, hex, floats with exponent and an 'f' suffix) and
 * identifiers (enums, booleans, inf, nan). Not accepted: extensions and
 * Any expansions ("[type.name]"), which Caffe files do not use. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caffe_tree.h"

/* Nesting deeper than this is refused, so hostile input cannot exhaust the
 * stack (real Caffe files nest four or five levels). */
#define MAX_DEPTH 64

typedef enum TokKind { TOK_END, TOK_IDENT, TOK_NUMBER, TOK_STRING, TOK_SYMBOL } TokKind;

typedef struct Token {
  TokKind kind;
  const char *start;   /* into the text; strings: the opening quote */
  size_t len;
  int line, col;
} Token;

typedef struct Parser {
  const char *text, *end, *p;
  int line, col;
  const char *file;
  Token tok;           /* the current (lookahead) token */
  char *err;           /* the first error's message, owned */
} Parser;

static void fail_at(Parser *ps, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_at(Parser *ps, int line, int col, const char *fmt, ...) {
  if (ps->err) return;
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  size_t n = strlen(ps->file) + strlen(reason) + 48;
  ps->err = malloc(n);
  if (ps->err) snprintf(ps->err, n, "%s:%d:%d: %s", ps->file, line, col, reason);
}

/* ---- tokenizer -------------------------------------------------------------- */

static void advance(Parser *ps) {
  if (*ps->p == '\n') {
    ps->line++;
    ps->col = 1;
  } else {
    ps->col++;
  }
  ps->p++;
}

static void skip_space(Parser *ps) {
  while (ps->p < ps->end) {
    unsigned char c = (unsigned char)*ps->p;
    if (c == '#') {
      while (ps->p < ps->end && *ps->p != '\n') advance(ps);
    } else if (isspace(c)) {
      advance(ps);
    } else {
      break;
    }
  }
}

static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Shows a token in a message: "'conv1'", "end of file". */
static const char *describe(const Token *t, char *buf, size_t size) {
  if (t->kind == TOK_END) return "end of file";
  int n = t->len > 40 ? 40 : (int)t->len;
  snprintf(buf, size, "'%.*s%s'", n, t->start, t->len > 40 ? "..." : "");
  for (char *c = buf; *c; c++)
    if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
  return buf;
}

/* Reads the token at the cursor into ps->tok. */
static void next_token(Parser *ps) {
  skip_space(ps);
  Token *t = &ps->tok;
  t->start = ps->p;
  t->line = ps->line;
  t->col = ps->col;
  t->len = 0;
  if (ps->p >= ps->end) {
    t->kind = TOK_END;
    return;
  }
  char c = *ps->p;
  if (isalpha((unsigned char)c) || c == '_') {
    t->kind = TOK_IDENT;
    while (ps->p < ps->end && is_ident_char(*ps->p)) advance(ps);
  } else if (isdigit((unsigned char)c) || (c == '.' && ps->p + 1 < ps->end &&
                                          isdigit((unsigned char)ps->p[1]))) {
    /* digits, dots, letters (hex, exponent, 'f' suffix) and a sign right
     * after an exponent; caffe_node_int/float judge the text later */
    t->kind = TOK_NUMBER;
    bool hex = c == '0' && ps->p + 1 < ps->end && (ps->p[1] == 'x' || ps->p[1] == 'X');
    while (ps->p < ps->end) {
      char d = *ps->p;
      bool sign_after_exp = (d == '+' || d == '-') && !hex && ps->p > t->start &&
                            (ps->p[-1] == 'e' || ps->p[-1] == 'E');
      if (!is_ident_char(d) && d != '.' && !sign_after_exp) break;
      advance(ps);
    }
  } else if (c == '"' || c == '\'') {
    t->kind = TOK_STRING;
    advance(ps);
    while (ps->p < ps->end && *ps->p != c && *ps->p != '\n') {
      if (*ps->p == '\\' && ps->p + 1 < ps->end && ps->p[1] != '\n') advance(ps);
      advance(ps);
    }
    if (ps->p >= ps->end || *ps->p != c) {
      fail_at(ps, t->line, t->col, "the string is not closed on its line");
      t->kind = TOK_END;
      return;
    }
    advance(ps);
  } else if (strchr("{}[]<>:;,-", c)) {
    t->kind = TOK_SYMBOL;
    advance(ps);
  } else {
    if (isprint((unsigned char)c))
      fail_at(ps, t->line, t->col, "unexpected character '%c'", c);
    else
      fail_at(ps, t->line, t->col, "unexpected byte 0x%02x", (unsigned)(unsigned char)c);
    t->kind = TOK_END;
    return;
  }
  t->len = (size_t)(ps->p - t->start);
}

static bool is_symbol(const Token *t, char c) {
  return t->kind == TOK_SYMBOL && t->start[0] == c;
}

/* ---- strings ---------------------------------------------------------------- */

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Appends the unescaped body of string token t to buf (room for t->len
 * more bytes is there: unescaping never grows a string). */
static bool unescape(Parser *ps, const Token *t, char *buf, size_t *len) {
  const char *s = t->start + 1, *e = t->start + t->len - 1;
  while (s < e) {
    if (*s != '\\') {
      buf[(*len)++] = *s++;
      continue;
    }
    s++;
    char c = *s++;
    switch (c) {
      case 'n': buf[(*len)++] = '\n'; break;
      case 't': buf[(*len)++] = '\t'; break;
      case 'r': buf[(*len)++] = '\r'; break;
      case 'a': buf[(*len)++] = '\a'; break;
      case 'b': buf[(*len)++] = '\b'; break;
      case 'f': buf[(*len)++] = '\f'; break;
      case 'v': buf[(*len)++] = '\v'; break;
      case '\\': case '\'': case '"': case '?': buf[(*len)++] = c; break;
      case 'x': case 'X': {
        int v = 0, k = 0;
        while (k < 2 && s < e && hex_value(*s) >= 0) v = v * 16 + hex_value(*s++), k++;
        if (k == 0) {
          fail_at(ps, t->line, t->col, "\\x in a string needs hex digits");
          return false;
        }
        buf[(*len)++] = (char)v;
        break;
      }
      default:
        if (c >= '0' && c <= '7') {
          int v = c - '0', k = 1;
          while (k < 3 && s < e && *s >= '0' && *s <= '7') v = v * 8 + (*s++ - '0'), k++;
          buf[(*len)++] = (char)v;
        } else {
          fail_at(ps, t->line, t->col, "unknown escape '\\%c' in a string", c);
          return false;
        }
    }
  }
  return true;
}

/* ---- tree building ------------------------------------------------------------ */

static CaffeNode *new_node(Parser *ps, CaffeNode *parent, const Token *name) {
  CaffeNode *n = calloc(1, sizeof *n);
  if (n) n->name = malloc(name->len + 1);
  if (!n || !n->name) {
    free(n);
    fail_at(ps, name->line, name->col, "out of memory");
    return NULL;
  }
  memcpy(n->name, name->start, name->len);
  n->name[name->len] = 0;
  n->line = name->line;
  n->col = name->col;
  if (parent->last)
    parent->last->next = n;
  else
    parent->first = n;
  parent->last = n;
  return n;
}

static void free_node(CaffeNode *n) {
  while (n) {
    CaffeNode *next = n->next;
    free_node(n->first);
    free(n->name);
    free(n->text);
    free(n);
    n = next;
  }
}

static bool parse_body(Parser *ps, CaffeNode *msg, char close, int depth);

/* A scalar value at the current token into n. */
static bool parse_scalar(Parser *ps, CaffeNode *n) {
  char buf[64];
  Token t = ps->tok;
  if (t.kind == TOK_STRING) {
    size_t total = 0;
    /* adjacent strings are one value: measure them first */
    for (Token s = t; s.kind == TOK_STRING; s = ps->tok) {
      total += s.len;
      next_token(ps);
    }
    n->text = malloc(total + 1);
    if (!n->text) {
      fail_at(ps, t.line, t.col, "out of memory");
      return false;
    }
    /* re-read from the first string: tokens are cheap to rescan */
    Parser again = *ps;
    again.p = t.start;
    again.line = t.line;
    again.col = t.col;
    again.err = NULL;
    next_token(&again);
    n->kind = CAFFE_VALUE_STRING;
    n->text_len = 0;
    while (again.tok.kind == TOK_STRING) {
      if (!unescape(ps, &again.tok, n->text, &n->text_len)) return false;
      next_token(&again);
    }
    free(again.err);
    n->text[n->text_len] = 0;
    return true;
  }
  bool negative = false;
  if (is_symbol(&t, '-')) {
    negative = true;
    next_token(ps);
    t = ps->tok;
    if (t.kind != TOK_NUMBER && t.kind != TOK_IDENT) {
      fail_at(ps, t.line, t.col, "expected a number after '-', found %s",
              describe(&t, buf, sizeof buf));
      return false;
    }
  }
  if (t.kind != TOK_NUMBER && t.kind != TOK_IDENT) {
    fail_at(ps, t.line, t.col, "expected a value for field '%s', found %s", n->name,
            describe(&t, buf, sizeof buf));
    return false;
  }
  n->kind = t.kind == TOK_NUMBER ? CAFFE_VALUE_NUMBER : CAFFE_VALUE_IDENT;
  n->text = malloc(t.len + 2);
  if (!n->text) {
    fail_at(ps, t.line, t.col, "out of memory");
    return false;
  }
  size_t k = 0;
  if (negative) n->text[k++] = '-';
  memcpy(n->text + k, t.start, t.len);
  n->text_len = k + t.len;
  n->text[n->text_len] = 0;
  next_token(ps);
  return true;
}

/* A nested message opened by the current '{' or '<'. */
static bool parse_message(Parser *ps, CaffeNode *n, int depth) {
  char close = is_symbol(&ps->tok, '{') ? '}' : '>';
  if (depth >= MAX_DEPTH) {
    fail_at(ps, ps->tok.line, ps->tok.col, "messages nest deeper than %d levels", MAX_DEPTH);
    return false;
  }
  n->kind = CAFFE_VALUE_MESSAGE;
  next_token(ps);
  return parse_body(ps, n, close, depth + 1);
}

/* One field (the current token is its name) with its value(s). A list
 * value adds one node per element, as repeated fields are written. */
static bool parse_field(Parser *ps, CaffeNode *msg, int depth) {
  char buf[64];
  Token name = ps->tok;
  next_token(ps);
  bool colon = is_symbol(&ps->tok, ':');
  if (colon) next_token(ps);
  bool opens = is_symbol(&ps->tok, '{') || is_symbol(&ps->tok, '<');
  if (!colon && !opens) {
    fail_at(ps, ps->tok.line, ps->tok.col, "expected ':' or '{' after field name '%.*s', found %s",
            (int)name.len, name.start, describe(&ps->tok, buf, sizeof buf));
    return false;
  }
  if (opens) {
    CaffeNode *n = new_node(ps, msg, &name);
    return n && parse_message(ps, n, depth);
  }
  if (!is_symbol(&ps->tok, '[')) {
    CaffeNode *n = new_node(ps, msg, &name);
    return n && parse_scalar(ps, n);
  }
  next_token(ps);
  if (is_symbol(&ps->tok, ']')) {
    next_token(ps);
    return true;
  }
  for (;;) {
    CaffeNode *n = new_node(ps, msg, &name);
    if (!n) return false;
    bool ok = is_symbol(&ps->tok, '{') || is_symbol(&ps->tok, '<') ? parse_message(ps, n, depth)
                                                                    : parse_scalar(ps, n);
    if (!ok) return false;
    if (is_symbol(&ps->tok, ']')) break;
    if (!is_symbol(&ps->tok, ',')) {
      fail_at(ps, ps->tok.line, ps->tok.col, "expected ',' or ']' in the list of '%s', found %s",
              n->name, describe(&ps->tok, buf, sizeof buf));
      return false;
    }
    next_token(ps);
  }
  next_token(ps);
  return true;
}

/* Fields up to `close` ('}' or '>'; 0 for the end of the file). */
static bool parse_body(Parser *ps, CaffeNode *msg, char close, int depth) {
  char buf[64];
  for (;;) {
    if (ps->err) return false;
    Token t = ps->tok;
    if (close && is_symbol(&t, close)) {
      next_token(ps);
      return true;
    }
    if (t.kind == TOK_END) {
      if (!close) return true;
      fail_at(ps, t.line, t.col, "expected '%c' before the end of the file (a message is not "
              "closed)", close);
      return false;
    }
    if (is_symbol(&t, '[')) {
      fail_at(ps, t.line, t.col, "extensions ('[name]') are not supported");
      return false;
    }
    if (t.kind != TOK_IDENT) {
      fail_at(ps, t.line, t.col, "expected a field name, found %s", describe(&t, buf, sizeof buf));
      return false;
    }
    if (!parse_field(ps, msg, depth)) return false;
    if (is_symbol(&ps->tok, ',') || is_symbol(&ps->tok, ';')) next_token(ps);
  }
}

InferStatus *caffe_text_parse(const char *text, size_t len, const char *file, CaffeDoc *out) {
  memset(out, 0, sizeof *out);
  Parser ps;
  memset(&ps, 0, sizeof ps);
  ps.text = ps.p = text ? text : "";
  ps.end = ps.text + (text ? len : 0);
  ps.line = ps.col = 1;
  ps.file = file ? file : "prototxt";
  /* editors on Windows may start the file with a UTF-8 byte order mark */
  if (ps.end - ps.p >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0) ps.p += 3;
  out->file = strdup(ps.file);
  out->root = calloc(1, sizeof *out->root);
  if (!out->file || !out->root) {
    caffe_doc_free(out);
    return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "%s: out of memory", ps.file);
  }
  out->root->kind = CAFFE_VALUE_MESSAGE;
  out->root->line = out->root->col = 1;
  next_token(&ps);
  bool ok = parse_body(&ps, out->root, 0, 0) && !ps.err;
  if (ok) return NULL;
  InferStatus *st = infer_status_new(INFER_ERR_PARSE, "%s",
                                     ps.err ? ps.err : "malformed text (out of memory)");
  free(ps.err);
  caffe_doc_free(out);
  return st;
}

void caffe_doc_free(CaffeDoc *doc) {
  if (!doc) return;
  free_node(doc->root);
  free(doc->file);
  doc->root = NULL;
  doc->file = NULL;
}
