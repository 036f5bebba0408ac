/* The plugin creator registry and the loading of plugin libraries (dlopen,
 * INFER_PLUGIN_PATH). Creators are kept by pointer and never removed, and
 * libraries are never unloaded: instances made by a library's creators may
 * live as long as the process. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_internal.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const InferPluginCreator **creators;
static int n_creators, cap_creators;
static char **libraries;           /* paths loaded (or being loaded) */
static int n_libraries, cap_libraries;
static char **failures;            /* "'path' (reason)" of libraries that did not load */
static int n_failures, cap_failures;

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
/* Set while this thread loads INFER_PLUGIN_PATH: a library that registers
 * from its constructor re-enters the registry, which must not wait for the
 * once-routine it is running inside. */
static _Thread_local bool loading_env;

static bool grow(void *arr, int *cap, int need, size_t elem) {
  if (need <= *cap) return true;
  int c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *p = realloc(*(void **)arr, (size_t)c * elem);
  if (!p) return false;
  *(void **)arr = p;
  *cap = c;
  return true;
}

static void remember_failure(const char *path, InferStatus *st) {
  char buf[1024];
  snprintf(buf, sizeof buf, "'%s' (%s)", path, infer_status_message(st));
  pthread_mutex_lock(&lock);
  char *copy = strdup(buf);
  if (copy && grow(&failures, &cap_failures, n_failures + 1, sizeof *failures))
    failures[n_failures++] = copy;
  else
    free(copy);
  pthread_mutex_unlock(&lock);
}

const char *infer_plugin_load_failures(char *buf, size_t size) {
  if (!size) return buf;
  buf[0] = '\0';
  pthread_mutex_lock(&lock);
  size_t used = 0;
  for (int i = 0; i < n_failures && used + 1 < size; i++) {
    int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "; plugin libraries that failed "
                     "to load: ", failures[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  pthread_mutex_unlock(&lock);
  return buf;
}

InferStatus *infer_plugin_not_registered(const char *what, const char *name, const char *version) {
  char fails[1024];
  infer_plugin_load_failures(fails, sizeof fails);
  return infer_status_new(INFER_ERR_UNSUPPORTED,
                          "%s needs plugin '%s' version %s, which is not registered (load its "
                          "library with --plugins / INFER_PLUGIN_PATH)%s",
                          what, name, version && *version ? version : "(any)", fails);
}

static void load_env(void) {
  const char *list = getenv("INFER_PLUGIN_PATH");
  if (!list || !*list) return;
  loading_env = true;
  /* failures are remembered and reported with the errors they cause */
  InferStatus *st = infer_plugin_load_libraries(list);
  infer_status_free(st);
  loading_env = false;
}

void infer_plugin_registry_init(void) {
  if (!loading_env) pthread_once(&env_once, load_env);
}

static bool name_ok(const char *s, size_t size) { return s && *s && strlen(s) < size; }

static InferStatus *add_creator(const InferPluginCreator *c, const char *library) {
  const char *from = library ? library : "the application";
  if (!c) return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "plugin register: no creator given");
  if (c->api_version != INFER_PLUGIN_API_VERSION)
    return infer_status_new(INFER_ERR_MISMATCH,
                            "plugin '%s' from %s is built for plugin API version %u; this is "
                            "version %u", c->name ? c->name : "?", from, c->api_version,
                            INFER_PLUGIN_API_VERSION);
  if (!name_ok(c->name, INFER_PLUGIN_NAME_SIZE) || !name_ok(c->version, INFER_PLUGIN_VERSION_SIZE))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "plugin from %s: the name must have 1 to %d bytes and the version 1 "
                            "to %d", from, INFER_PLUGIN_NAME_SIZE - 1,
                            INFER_PLUGIN_VERSION_SIZE - 1);
  if (!c->create || !c->deserialize)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "plugin '%s' version %s from %s has no create or deserialize", c->name,
                            c->version, from);
  InferStatus *st = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_creators && !st; i++) {
    if (creators[i] == c) goto done; /* the same creator again */
    if (strcmp(creators[i]->name, c->name) == 0 && strcmp(creators[i]->version, c->version) == 0)
      st = infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "plugin '%s' version %s from %s is already registered", c->name,
                            c->version, from);
  }
  if (!st && !grow(&creators, &cap_creators, n_creators + 1, sizeof *creators))
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "plugin register: out of memory");
  if (!st) creators[n_creators++] = c;
done:
  pthread_mutex_unlock(&lock);
  return st;
}

InferStatus *infer_plugin_register(const InferPluginCreator *creator) {
  infer_plugin_registry_init();
  return add_creator(creator, NULL);
}

const InferPluginCreator *infer_plugin_find(const char *name, const char *version) {
  if (!name) return NULL;
  infer_plugin_registry_init();
  const InferPluginCreator *best = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_creators; i++) {
    const InferPluginCreator *c = creators[i];
    if (strcmp(c->name, name) != 0) continue;
    if (version && *version) {
      if (strcmp(c->version, version) == 0) best = c;
    } else if (!best || strverscmp(c->version, best->version) > 0) {
      best = c;
    }
  }
  pthread_mutex_unlock(&lock);
  return best;
}

int infer_plugin_count(void) {
  infer_plugin_registry_init();
  pthread_mutex_lock(&lock);
  int n = n_creators;
  pthread_mutex_unlock(&lock);
  return n;
}

const InferPluginCreator *infer_plugin_get(int i) {
  infer_plugin_registry_init();
  pthread_mutex_lock(&lock);
  const InferPluginCreator *c = i >= 0 && i < n_creators ? creators[i] : NULL;
  pthread_mutex_unlock(&lock);
  return c;
}

/* ---- libraries ---------------------------------------------------------------- */

static InferStatus *registry_add(InferPluginRegistry *r, const InferPluginCreator *c) {
  return add_creator(c, r ? r->library : NULL);
}

/* Claims a path: false when it was loaded (or is being loaded) already. */
static InferStatus *claim(const char *path, bool *fresh) {
  *fresh = false;
  InferStatus *st = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_libraries; i++)
    if (strcmp(libraries[i], path) == 0) goto done;
  char *copy = strdup(path);
  if (!copy || !grow(&libraries, &cap_libraries, n_libraries + 1, sizeof *libraries)) {
    free(copy);
    st = infer_status_new(INFER_ERR_OUT_OF_MEMORY, "plugin library '%s': out of memory", path);
    goto done;
  }
  libraries[n_libraries++] = copy;
  *fresh = true;
done:
  pthread_mutex_unlock(&lock);
  return st;
}

static void unclaim(const char *path) {
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_libraries; i++)
    if (strcmp(libraries[i], path) == 0) {
      free(libraries[i]);
      libraries[i] = libraries[--n_libraries];
      break;
    }
  pthread_mutex_unlock(&lock);
}

static InferStatus *load_one(const char *path) {
  int before = infer_plugin_count();
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *err = dlerror();
    return infer_status_new(INFER_ERR_IO, "cannot load plugin library '%s': %s", path,
                            err ? err : "unknown error");
  }
  InferPluginLibraryInitFn init;
  /* the object-to-function pointer conversion POSIX guarantees for dlsym */
  *(void **)&init = dlsym(h, INFER_PLUGIN_LIBRARY_INIT);
  if (!init) {
    /* a library may register from its constructor instead */
    if (infer_plugin_count() > before) return NULL;
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "plugin library '%s' exports no %s() and registered no plugin", path,
                            INFER_PLUGIN_LIBRARY_INIT);
  }
  InferPluginRegistry reg = {INFER_PLUGIN_API_VERSION, path, registry_add};
  InferStatus *st = init(&reg);
  return st ? infer_status_prefix(st, "plugin library '%s'", path) : NULL;
}

InferStatus *infer_plugin_load_library(const char *path) {
  if (!path || !*path)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "plugin library: no path given");
  infer_plugin_registry_init();
  bool fresh;
  INFER_TRY(claim(path, &fresh));
  if (!fresh) return NULL;
  InferStatus *st = load_one(path);
  if (st) {
    unclaim(path);
    remember_failure(path, st);
  }
  return st;
}

InferStatus *infer_plugin_load_libraries(const char *list) {
  if (!list) return NULL;
  char *copy = strdup(list);
  if (!copy) return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "plugin libraries: out of memory");
  InferStatus *first = NULL;
  char *save = NULL;
  /* every library is tried; the first failure is returned */
  for (char *p = strtok_r(copy, ":,", &save); p; p = strtok_r(NULL, ":,", &save)) {
    InferStatus *st = infer_plugin_load_library(p);
    if (st && !first) first = st;
    else infer_status_free(st);
  }
  free(copy);
  return first;
}
