/* ThreadSanitizer and GLib locks: GLib 2.74 builds GMutex, GRecMutex and
 * GCond on futexes, so TSan (which knows pthread mutexes) sees no
 * happens-before through them and would report every access they protect
 * as a race. Under TSan this header defines the lock functions in the test
 * executable (exported, so GStreamer and the plugin bind to them), calls
 * GLib's own through dlsym(RTLD_NEXT) and tells TSan about the acquire and
 * release. Include it in exactly one file of the executable; it is empty
 * without TSan. */
#ifndef INFER_TSAN_GLIB_LOCKS_H
#define INFER_TSAN_GLIB_LOCKS_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INFER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define INFER_TSAN 1
#endif

#ifdef INFER_TSAN
#include <dlfcn.h>
#include <glib.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

/* Resolved on first use (GLib may lock before constructors run); the
 * pointer is read and written atomically. */
#define TSAN_REAL(name)                                                     \
  static __typeof__(&name) real_##name;                                     \
  __typeof__(&name) fn_##name = __atomic_load_n(&real_##name, __ATOMIC_ACQUIRE); \
  if (!fn_##name) {                                                         \
    fn_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name);                 \
    __atomic_store_n(&real_##name, fn_##name, __ATOMIC_RELEASE);            \
  }

void g_mutex_lock(GMutex *m) {
  TSAN_REAL(g_mutex_lock);
  fn_g_mutex_lock(m);
  __tsan_acquire(m);
}

void g_mutex_unlock(GMutex *m) {
  TSAN_REAL(g_mutex_unlock);
  __tsan_release(m);
  fn_g_mutex_unlock(m);
}

gboolean g_mutex_trylock(GMutex *m) {
  TSAN_REAL(g_mutex_trylock);
  gboolean ok = fn_g_mutex_trylock(m);
  if (ok) __tsan_acquire(m);
  return ok;
}

void g_rec_mutex_lock(GRecMutex *m) {
  TSAN_REAL(g_rec_mutex_lock);
  fn_g_rec_mutex_lock(m);
  __tsan_acquire(m);
}

void g_rec_mutex_unlock(GRecMutex *m) {
  TSAN_REAL(g_rec_mutex_unlock);
  __tsan_release(m);
  fn_g_rec_mutex_unlock(m);
}

gboolean g_rec_mutex_trylock(GRecMutex *m) {
  TSAN_REAL(g_rec_mutex_trylock);
  gboolean ok = fn_g_rec_mutex_trylock(m);
  if (ok) __tsan_acquire(m);
  return ok;
}

void g_cond_wait(GCond *c, GMutex *m) {
  TSAN_REAL(g_cond_wait);
  __tsan_release(m);
  fn_g_cond_wait(c, m);
  __tsan_acquire(m);
}

gboolean g_cond_wait_until(GCond *c, GMutex *m, gint64 end_time) {
  TSAN_REAL(g_cond_wait_until);
  __tsan_release(m);
  gboolean r = fn_g_cond_wait_until(c, m, end_time);
  __tsan_acquire(m);
  return r;
}
#endif

#endif
