/*
 * The C ring baseline: what a C program using libxenvchan's io.c algorithm moves through one
 * vchan ring between two processes on this machine. Written for the benchmark (not libxenvchan's
 * source); the algorithm is the same: the writer copies a frame in at prod & (size - 1) (two
 * memcpy() when it wraps), then a release store of prod, then a full barrier and an atomic
 * fetch-and-clear of its own notify bit (libxenvchan's send_notify; nobody asks for an event here,
 * both sides spin, so no event is ever sent); the reader loads prod once, copies what is there out
 * into its private buffer, release-stores cons and does the same notify step. The reader checks
 * each frame (u32 little-endian length == the message size, then the message's sequence number)
 * in its private copy, as a reader of a hostile peer must.
 *
 * Memory: one memfd, mapped shared by both processes (fork), laid out exactly as a vchan: the
 * libxenvchan control page (left.cons @0, left.prod @4, right.cons @8, right.prod @12, left_order
 * @16, right_order @18, cli_live @20, srv_live @21, cli_notify @22, srv_notify @23), then the ring:
 * inside the page at 1024 / 2048 for order 10 / 11, on its own pages after it otherwise. The
 * stream uses the LEFT ring (client -> server): the writer is the client, the reader the server.
 * The benchmark's own words (window hand-shake) sit at 3072 in the control page, which a vchan
 * with external rings leaves unused.
 *
 * Publish policies (argv[5], publish_bytes):
 *   0: libxenvchan as used with one libxenvchan_write() per message: every frame is published.
 *   N: prod is published once N or more bytes are unpublished, and before the writer waits for
 *      space (the "batched" policy; the benchmark passes xenipc's own interval).
 * A frame larger than half the ring streams (as xenipc's send() and the 2-copy ceiling do): wait
 * until half the ring (or the rest) is free, then fill the free space a quarter ring at a time,
 * publishing each quarter. Big frames are copied out exactly up to their end, so the private
 * buffer never moves a partial frame (as xenipc's FrameBuffer.wanted()).
 *
 * Waiting: both sides spin (pause between checks); a wait that lasts over 20 us yields the CPU
 * between checks (sched_yield), as xenipc's adaptive spin falls back to sleeping: on a machine
 * with other load a pure spinner can hold the CPU its peer needs. On a quiet machine the waits
 * are far shorter and this never triggers.
 *
 * Usage: c-ring <message size> <ring bytes> <warm-up ms> <window ms> <publish bytes>
 * Prints {"messages":N,"seconds":S} for the timed window (first copy in -> last frame checked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define OFF_LEFT_CONS 0
#define OFF_LEFT_PROD 4
#define OFF_LEFT_ORDER 16
#define OFF_RIGHT_ORDER 18
#define OFF_CLI_LIVE 20
#define OFF_SRV_LIVE 21
#define OFF_CLI_NOTIFY 22
#define OFF_SRV_NOTIFY 23
#define NOTIFY_WRITE 1u
#define NOTIFY_READ 2u
/* Benchmark hand-shake words, each on its own cache line. */
#define OFF_WINDOW_DONE 3072 /* u32: windows the reader finished */
#define OFF_WINDOW_COUNT 3136 /* u32: frames the reader accepted in the last window */
#define OFF_WINDOW_END_NS 3200 /* u64: CLOCK_MONOTONIC when it saw the last window's end marker */
#define OFF_READER_ERROR 3264 /* u32: nonzero if the reader rejected something */
#define END_OF_STREAM 0xffffffffu
#define STALL_LIMIT_NS 10000000000ull
/* A wait longer than this yields the CPU between checks (sched_yield): on a machine with other
 * load, a waiter that only spins can hold the CPU its peer needs to make progress. */
#define YIELD_AFTER_NS 20000ull

#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

static uint8_t *page;
static uint8_t *ring;
static uint32_t ring_size;
static uint32_t mask;

static uint32_t *word(unsigned off) { return (uint32_t *)(page + off); }

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* io.c's notify step after an index store: full barrier, then fetch-and-clear our own bit; an
 * event would go out only if the peer had asked (it never does here: both sides spin). */
static int notify_needed(unsigned own_notify_off, uint8_t bit) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  uint8_t prev = __atomic_fetch_and(page + own_notify_off, (uint8_t)~bit, __ATOMIC_SEQ_CST);
  return (prev & bit) != 0;
}

static void die(const char *what) {
  fprintf(stderr, "c-ring: %s\n", what);
  exit(2);
}

/* ---------------------------------------------------------------- writer (the client) ---- */

static uint32_t w_prod;
static uint32_t w_free;
static uint32_t w_unpublished;
static uint32_t publish_bytes;

static void w_publish(void) {
  __atomic_store_n(word(OFF_LEFT_PROD), w_prod, __ATOMIC_RELEASE);
  if (notify_needed(OFF_CLI_NOTIFY, NOTIFY_WRITE)) die("the reader asked for an event");
  w_unpublished = 0;
}

/* Refresh the free space from the reader's index (loaded once, checked: a fill above the ring size
 * is insane), spinning until at least `need` bytes are free. */
static void w_wait_space(uint32_t need) {
  if (w_unpublished > 0) w_publish();
  uint64_t give_up = 0, yield_at = 0;
  int yielding = 0;
  for (unsigned spins = 0;; spins++) {
    uint32_t cons = __atomic_load_n(word(OFF_LEFT_CONS), __ATOMIC_ACQUIRE);
    uint32_t fill = w_prod - cons;
    if (fill > ring_size) die("insane consumer index");
    w_free = ring_size - fill;
    if (w_free >= need) return;
    if (__atomic_load_n(word(OFF_READER_ERROR), __ATOMIC_RELAXED) != 0) exit(3);
    if ((spins & 255) == 255) {
      uint64_t t = now_ns();
      if (give_up == 0) {
        give_up = t + STALL_LIMIT_NS;
        yield_at = t + YIELD_AFTER_NS;
      } else if (t > give_up) die("the reader freed no space for 10 s");
      else if (t > yield_at) yielding = 1;
    }
    if (yielding) sched_yield();
    else CPU_RELAX();
  }
}

/* Copy n bytes in at prod (two memcpy() when it wraps); publish per the policy. */
static void w_copy_in(const uint8_t *src, uint32_t n, int last_piece_of_frame) {
  uint32_t pos = w_prod & mask;
  uint32_t first = ring_size - pos;
  if (first > n) first = n;
  memcpy(ring + pos, src, first);
  if (first < n) memcpy(ring, src + first, n - first);
  w_prod += n;
  w_free -= n;
  w_unpublished += n;
  if (publish_bytes == 0 ? last_piece_of_frame : w_unpublished >= publish_bytes) w_publish();
}

static void w_put_frame(const uint8_t *frame, uint32_t frame_bytes) {
  if (frame_bytes <= ring_size / 2) {
    if (w_free < frame_bytes) w_wait_space(frame_bytes);
    w_copy_in(frame, frame_bytes, 1);
    return;
  }
  uint32_t quarter = ring_size / 4, half = ring_size / 2, off = 0;
  while (off < frame_bytes) {
    uint32_t want = frame_bytes - off < half ? frame_bytes - off : half;
    if (w_free < want) w_wait_space(want);
    uint32_t end = off + (w_free < frame_bytes - off ? w_free : frame_bytes - off);
    while (off < end) {
      uint32_t step = end - off < quarter ? end - off : quarter;
      w_copy_in(frame + off, step, 0);
      off += step;
      if (w_unpublished > 0) w_publish(); /* each streamed quarter is published */
    }
  }
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

static uint32_t get_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* One window: frames for `ms`, then the end marker; waits for the reader's verdict. */
static void w_window(uint8_t *frame, uint32_t size, uint64_t ms, unsigned window_index, uint64_t *messages, double *seconds) {
  uint32_t frame_bytes = size + 4;
  uint32_t batch = 262144 / size;
  if (batch < 1) batch = 1;
  if (batch > 64) batch = 64;
  uint64_t start = now_ns(), deadline = start + ms * 1000000ull, sent = 0;
  for (;;) {
    for (uint32_t i = 0; i < batch; i++) {
      put_u32(frame + 4, (uint32_t)sent++);
      w_put_frame(frame, frame_bytes);
    }
    if (now_ns() >= deadline) break;
  }
  put_u32(frame + 4, END_OF_STREAM);
  w_put_frame(frame, frame_bytes);
  if (w_unpublished > 0) w_publish();
  uint64_t give_up = now_ns() + STALL_LIMIT_NS;
  while (__atomic_load_n(word(OFF_WINDOW_DONE), __ATOMIC_ACQUIRE) != window_index) {
    if (__atomic_load_n(word(OFF_READER_ERROR), __ATOMIC_RELAXED) != 0) exit(3);
    if (now_ns() > give_up) die("the reader did not finish the window in 10 s");
    sched_yield();
  }
  uint32_t got = __atomic_load_n(word(OFF_WINDOW_COUNT), __ATOMIC_RELAXED);
  if (got != (uint32_t)sent) die("the reader counted a different number of frames");
  uint64_t end;
  memcpy(&end, page + OFF_WINDOW_END_NS, 8);
  *messages = sent;
  *seconds = (double)(end - start) / 1e9;
}

/* ---------------------------------------------------------------- reader (the server) ---- */

static void r_fail(const char *what) {
  fprintf(stderr, "c-ring reader: %s\n", what);
  __atomic_store_n(word(OFF_READER_ERROR), 1, __ATOMIC_RELEASE);
  _exit(3);
}

static void reader(uint32_t size, unsigned windows) {
  uint32_t frame_bytes = size + 4;
  uint32_t cap = (frame_bytes > ring_size ? frame_bytes : ring_size) + ring_size;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) r_fail("out of memory");
  uint32_t cons = __atomic_load_n(word(OFF_LEFT_CONS), __ATOMIC_RELAXED);
  uint32_t start = 0, end = 0, expected = 0;
  unsigned done = 0, idle_spins = 0;
  uint64_t give_up = 0, yield_at = 0;
  int yielding = 0;
  while (done < windows) {
    uint32_t prod = __atomic_load_n(word(OFF_LEFT_PROD), __ATOMIC_ACQUIRE); /* loaded once */
    uint32_t avail = prod - cons;
    if (avail > ring_size) r_fail("insane producer index");
    if (avail == 0) {
      if ((++idle_spins & 255) == 0) {
        uint64_t t = now_ns();
        if (give_up == 0) {
          give_up = t + STALL_LIMIT_NS;
          yield_at = t + YIELD_AFTER_NS;
        } else if (t > give_up) r_fail("no data for 10 s");
        else if (t > yield_at) yielding = 1;
      }
      if (yielding) sched_yield();
      else CPU_RELAX();
      continue;
    }
    give_up = 0;
    idle_spins = 0;
    yielding = 0;
    if (start == end) start = end = 0;
    /* How much to take: everything that fits, but a big incomplete frame only up to its end. */
    uint32_t want;
    if (end - start >= 4 && frame_bytes > ring_size / 2) {
      if (get_u32(buf + start) != size) r_fail("bad frame length");
      if (cap - start < frame_bytes) {
        memmove(buf, buf + start, end - start);
        end -= start;
        start = 0;
      }
      want = start + frame_bytes - end;
    } else {
      if (cap - end < ring_size && start > 0) {
        memmove(buf, buf + start, end - start);
        end -= start;
        start = 0;
      }
      want = cap - end;
    }
    uint32_t n = avail < want ? avail : want;
    uint32_t pos = cons & mask;
    uint32_t first = ring_size - pos;
    if (first > n) first = n;
    memcpy(buf + end, ring + pos, first);
    if (first < n) memcpy(buf + end + first, ring, n - first);
    end += n;
    cons += n;
    __atomic_store_n(word(OFF_LEFT_CONS), cons, __ATOMIC_RELEASE);
    if (notify_needed(OFF_SRV_NOTIFY, NOTIFY_READ)) r_fail("the writer asked for an event");
    /* Whole frames in the private copy. */
    while (end - start >= 4) {
      uint32_t len = get_u32(buf + start);
      if (len != size) r_fail("bad frame length");
      if (end - start < 4 + len) break;
      uint32_t seq = get_u32(buf + start + 4);
      start += 4 + len;
      if (seq == END_OF_STREAM) {
        uint64_t t = now_ns();
        memcpy(page + OFF_WINDOW_END_NS, &t, 8);
        __atomic_store_n(word(OFF_WINDOW_COUNT), expected, __ATOMIC_RELAXED);
        __atomic_store_n(word(OFF_WINDOW_DONE), ++done, __ATOMIC_RELEASE);
        expected = 0;
        continue;
      }
      if (seq != expected) r_fail("sequence out of order");
      expected++;
    }
  }
  _exit(0);
}

/* ---------------------------------------------------------------- setup ---- */

static uint64_t arg(const char *s, const char *what) {
  char *endp;
  errno = 0;
  unsigned long long v = strtoull(s, &endp, 10);
  if (errno != 0 || *endp != '\0' || endp == s) {
    fprintf(stderr, "c-ring: bad %s: %s\n", what, s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: c-ring <message size> <ring bytes> <warm-up ms> <window ms> <publish bytes>\n");
    return 2;
  }
  uint64_t size = arg(argv[1], "message size"), ring_bytes = arg(argv[2], "ring bytes");
  uint64_t warmup_ms = arg(argv[3], "warm-up ms"), window_ms = arg(argv[4], "window ms");
  publish_bytes = (uint32_t)arg(argv[5], "publish bytes");
  if (size < 4 || size > (64u << 20)) die("message size must be 4 .. 64 MiB");
  if (ring_bytes < 1024 || ring_bytes > (1u << 20) || (ring_bytes & (ring_bytes - 1)) != 0) die("ring bytes must be a power of two, 1 KiB .. 1 MiB");
  ring_size = (uint32_t)ring_bytes;
  mask = ring_size - 1;
  unsigned order = 0;
  while ((1u << order) < ring_size) order++;
  size_t ring_offset = order == 10 ? 1024 : order == 11 ? 2048 : PAGE;
  size_t mapped = order <= 11 ? PAGE : PAGE + ring_size;

  int fd = memfd_create("xenipc-bench-c-ring", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, (off_t)mapped) != 0) die("memfd");
  page = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (page == MAP_FAILED) die("mmap");
  ring = page + ring_offset;
  /* The control page as a connected libxenvchan pair leaves it (zeroed memfd: indexes 0). */
  uint16_t left_order = (uint16_t)order, right_order = order == 10 ? 11 : 10;
  memcpy(page + OFF_LEFT_ORDER, &left_order, 2);
  memcpy(page + OFF_RIGHT_ORDER, &right_order, 2);
  page[OFF_CLI_LIVE] = 1;
  page[OFF_SRV_LIVE] = 1;
  page[OFF_CLI_NOTIFY] = 0;
  page[OFF_SRV_NOTIFY] = 0;

  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) reader((uint32_t)size, 2);

  uint8_t *frame = malloc(size + 4);
  if (frame == NULL) die("out of memory");
  put_u32(frame, (uint32_t)size);
  for (uint64_t i = 0; i < size; i++) frame[4 + i] = (uint8_t)((i * 31 + 7) & 0xff);
  w_prod = 0;
  w_free = ring_size;
  uint64_t messages;
  double seconds;
  w_window(frame, (uint32_t)size, warmup_ms, 1, &messages, &seconds);
  w_window(frame, (uint32_t)size, window_ms, 2, &messages, &seconds);
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("the reader failed");
  printf("{\"messages\":%llu,\"seconds\":%.9f}\n", (unsigned long long)messages, seconds);
  return 0;
}
