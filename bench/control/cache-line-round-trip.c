/*
 * How far apart two CPUs are right now: the time for one cache line to go from a thread on the
 * first CPU to a thread on the second and back (each thread waits for the other's store, then
 * stores). On a VM the answer moves with where the host runs the two vCPUs: on this 2-vCPU
 * build machine ~60 ns at some moments (what cores sharing a cache take) and ~450 ns at others,
 * and a spinning C ring moves 64 B messages ~4x faster in the first case (bench/ANALYSIS.md, "The C
 * ring's two speeds: where the host puts the vCPUs").
 *
 * Usage: cache-line-round-trip <cpu A> <cpu B>
 * Prints {"roundTripNs":N}: the median of BATCHES timed batches of ROUND_TRIPS round trips each,
 * after one untimed batch. Exits 1 (with a message) if a thread cannot be pinned, or if the other
 * thread has not answered within a second (it never got a CPU).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define ROUND_TRIPS 2000u
#define BATCHES 5
#define GIVE_UP_NS 1000000000ull

static _Alignas(64) uint32_t line;
static int cpu_b;
/* Set by either thread when it gives up, so that the other stops waiting too. */
static int failed;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

/* Wait until the line holds `value`; 0 once it does, -1 after GIVE_UP_NS or when the other side failed. */
static int wait_for(uint32_t value) {
  uint64_t deadline = 0;
  for (unsigned spins = 1;; spins++) {
    if (__atomic_load_n(&line, __ATOMIC_ACQUIRE) == value) return 0;
    CPU_RELAX();
    if ((spins & 0xffff) == 0) {
      if (__atomic_load_n(&failed, __ATOMIC_RELAXED)) return -1;
      uint64_t t = now_ns();
      if (deadline == 0) deadline = t + GIVE_UP_NS;
      else if (t > deadline) return -1;
    }
  }
}

/* The second thread: answers every odd value with the next even one. */
static void *answer(void *unused) {
  (void)unused;
  if (pin(cpu_b) != 0) {
    fprintf(stderr, "cannot run on CPU %d: %s\n", cpu_b, strerror(errno));
    __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  for (uint32_t i = 1; i <= (1 + BATCHES) * ROUND_TRIPS; i++) {
    if (wait_for(2 * i - 1) != 0) {
      __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
      return NULL;
    }
    __atomic_store_n(&line, 2 * i, __ATOMIC_RELEASE);
  }
  return NULL;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cpu_arg(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0 || v >= CPU_SETSIZE) {
    fprintf(stderr, "not a CPU number: %s\n", s);
    exit(2);
  }
  return (int)v;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: cache-line-round-trip <cpu A> <cpu B>\n");
    return 2;
  }
  int cpu_a = cpu_arg(argv[1]);
  cpu_b = cpu_arg(argv[2]);
  if (pin(cpu_a) != 0) {
    fprintf(stderr, "cannot run on CPU %d: %s\n", cpu_a, strerror(errno));
    return 1;
  }
  pthread_t other;
  if (pthread_create(&other, NULL, answer, NULL) != 0) {
    fprintf(stderr, "cannot start the second thread\n");
    return 1;
  }
  double batch_ns[BATCHES];
  uint32_t i = 1;
  for (int batch = -1; batch < BATCHES && !__atomic_load_n(&failed, __ATOMIC_RELAXED); batch++) {
    uint64_t t0 = now_ns();
    for (uint32_t k = 0; k < ROUND_TRIPS; k++, i++) {
      __atomic_store_n(&line, 2 * i - 1, __ATOMIC_RELEASE);
      if (wait_for(2 * i) != 0) {
        __atomic_store_n(&failed, 1, __ATOMIC_RELAXED);
        break;
      }
    }
    if (batch >= 0) batch_ns[batch] = (double)(now_ns() - t0) / ROUND_TRIPS;
  }
  pthread_join(other, NULL);
  if (__atomic_load_n(&failed, __ATOMIC_RELAXED)) {
    fprintf(stderr, "no round trip between CPU %d and CPU %d within a second\n", cpu_a, cpu_b);
    return 1;
  }
  qsort(batch_ns, BATCHES, sizeof batch_ns[0], by_value);
  printf("{\"roundTripNs\":%.1f}\n", batch_ns[BATCHES / 2]);
  return 0;
}
