/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log.c - guest console output to a file, off the event loop.
 *
 * The hard decision: write(2) on a regular file can block (dirty-page
 * throttling, NFS, a slow full disk) and O_NONBLOCK does nothing for it, so
 * the event loop never writes the file. It copies guest output into a
 * bounded byte ring and a writer thread of this module writes the ring out.
 *
 * Who owns what:
 *   - The loop owns the ring's tail and everything in struct console_log
 *     under "the loop's": it adds timestamps and the overflow marker as it
 *     queues, so the file shows them where the bytes arrived and when.
 *   - The thread owns the ring's head, the fd and everything under "the
 *     thread's": it writes, reopens, and handles write errors.
 *   - They meet in atomics only: tail and head (a single-producer,
 *     single-consumer ring: the loop writes bytes and then publishes tail
 *     with release, the thread reads tail with acquire, writes those bytes
 *     and then publishes head with release, which gives their room back),
 *     request flags (stop, reopen) and the counters the thread publishes.
 *   - The mutex exists only to put the thread to sleep without a lost
 *     wake-up: the thread sets `sleeping` and checks for work under it; the
 *     loop publishes tail and then, only if `sleeping` is set, takes the
 *     mutex to signal. Both use sequentially consistent accesses, so either
 *     the loop sees `sleeping` or the thread sees the new tail. The thread
 *     never makes a system call while holding the mutex, so the loop waits
 *     for it no longer than a few instructions.
 *   - The thread never calls log_*(): it publishes counts and errno values
 *     and pokes an eventfd; console_log_poll(), on the loop, says what
 *     happened in the daemon's log.
 *
 * The loop's side never allocates and never makes a blocking call; with no
 * thread asleep an append is a memcpy() and a few atomic operations.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "console_log.h"
#include "log.h"

#define OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY)
#define OPEN_MODE  0600
/* After the drain time, how long a cancelled thread may take to go. */
#define CANCEL_WAIT_MS 1000
/* A reopen that found something other than a file; an errno otherwise. */
#define BAD_FILE_TYPE (-1)

/* Grouped by owner; within a group, widest first. */
struct console_log {
	/* Set by console_log_open(), then only read. */
	char *path;
	uint8_t *buf;
	size_t cap;
	pthread_t thread;
	unsigned int drain_ms;
	int efd; /* eventfd: the thread has news for console_log_poll() */
	bool timestamps;

	/* The ring: byte counts since open; the bytes of [head, tail) are
	 * queued at buf[i % cap]. */
	_Atomic uint64_t tail; /* the loop's: bytes ever queued */
	_Atomic uint64_t head; /* the thread's: bytes written or dropped */

	pthread_mutex_t mu; /* see the top of the file */
	pthread_cond_t wake; /* the thread sleeps on it */
	pthread_cond_t gone; /* the thread is done; CLOCK_MONOTONIC */
	bool done; /* under mu */
	atomic_bool sleeping;
	atomic_bool stop;
	atomic_bool reopen_req;
	atomic_bool overflowed; /* the loop dropped bytes: poke the loop */

	/* Published by the thread for the loop. */
	_Atomic uint64_t written;
	_Atomic uint64_t dropped_write;
	_Atomic uint64_t write_errors;
	_Atomic uint64_t reopens;
	_Atomic uint64_t reopen_errors;
	atomic_int werr; /* errno of the write error now, 0 when none */
	atomic_int werr_first; /* errno that began the latest episode */
	atomic_int reopen_err; /* errno (or BAD_FILE_TYPE) of the latest */
	atomic_bool reopen_kept; /* ... and whether a file was still open */

	/* The thread's. */
	uint64_t w_head; /* == head */
	uint64_t w_episode_dropped;
	int fd; /* -1: not open; fd_err says why */
	int fd_err;
	bool w_line_start; /* the last byte written ended a line */

	/* The loop's. */
	uint64_t q_tail; /* == tail */
	uint64_t appended;
	uint64_t dropped_queue;
	uint64_t drop_run; /* dropped since the last marker was queued */
	uint64_t seen_write_errors;
	uint64_t seen_reopens;
	uint64_t seen_reopen_errors;
	uint64_t reported_dropped_write;
	uint64_t reported_dropped_queue;
	time_t last_drop_report;
	bool q_line_start; /* the last byte queued ended a line */
	bool in_error; /* reported a write error, not yet its end */
	bool drop_reported; /* last_drop_report is set */
};

/* Write the decimal @v in exactly @width digits at @p. */
static char *put_digits(char *p, unsigned int v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/**
 * console_log_format_time() - "2026-12-02T13:56:06.123Z " for @ts
 * @out:	CONSOLE_LOG_TS_LEN characters and a NUL
 * @ts:		CLOCK_REALTIME
 *
 * Days to a civil date by Howard Hinnant's algorithm rather than
 * gmtime_r(), which takes glibc's time zone lock: the loop takes no lock
 * the thread (or anything else) might hold.
 */
void console_log_format_time(char out[CONSOLE_LOG_TS_LEN + 1],
			     const struct timespec *ts)
{
	int64_t secs = ts->tv_sec;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t sod = secs - days * 86400;
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);
	unsigned int yoe =
		(doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned int mp = (5 * doy + 2) / 153;
	unsigned int day = doy - (153 * mp + 2) / 5 + 1;
	unsigned int month = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = (int64_t)yoe + era * 400 + (month <= 2);
	char *p = out;

	if (year < 0)
		year = 0;
	p = put_digits(p, (unsigned int)(year % 10000), 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	p = put_digits(p, day, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned int)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned int)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned int)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, (unsigned int)(ts->tv_nsec / 1000000), 3);
	*p++ = 'Z';
	*p++ = ' ';
	*p = '\0';
}

static void now_stamp(char out[CONSOLE_LOG_TS_LEN + 1])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	console_log_format_time(out, &ts);
}

/**
 * console_log_path() - the log path of worker @index: @base then @index
 *
 * Return: 0, or -1 if it does not fit in @len
 */
int console_log_path(char *buf, size_t len, const char *base,
		     unsigned int index)
{
	int n = snprintf(buf, len, "%s%u", base, index);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool file_type_ok(mode_t mode)
{
	return S_ISREG(mode) || S_ISFIFO(mode) || S_ISCHR(mode);
}

static const char *err_text(int err, char *buf, size_t len)
{
	if (err == BAD_FILE_TYPE)
		return "not a regular file, FIFO or character device";
	return strerror_r(err, buf, len);
}

/* ---- the writer thread ---- */

/* Tell the loop to call console_log_poll(); an eventfd never blocks. */
static void notify(struct console_log *cl)
{
	uint64_t one = 1;
	ssize_t r = write(cl->efd, &one, sizeof(one));

	(void)r;
}

/* A blocking call the close may cancel: cancellation is off elsewhere, so
 * the thread never goes while holding the mutex or halfway through its
 * bookkeeping. */
static ssize_t writev_cancellable(int fd, const struct iovec *iov, int n)
{
	int old;
	ssize_t r;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	r = writev(fd, iov, n);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return r;
}

/* Open the log path as the writer does: it may block on a FIFO until a
 * reader comes. Return: the fd, or -1 with *err set. */
static int open_for_thread(const char *path, int *err)
{
	struct stat st;
	int old;
	int fd;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	fd = open(path, OPEN_FLAGS, OPEN_MODE);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !file_type_ok(st.st_mode)) {
		*err = BAD_FILE_TYPE;
		close(fd);
		return -1;
	}
	return fd;
}

/* Carry out a reopen request, or the first open of a FIFO nobody read
 * yet. A failed reopen keeps the file that was open: its bytes are safe
 * there, if under the old name. */
static void thread_open(struct console_log *cl, bool first)
{
	int err = 0;
	int fd = open_for_thread(cl->path, &err);

	if (fd < 0) {
		if (cl->fd < 0)
			cl->fd_err = err;
		atomic_store(&cl->reopen_err, err);
		atomic_store(&cl->reopen_kept, cl->fd >= 0);
		atomic_fetch_add_explicit(&cl->reopen_errors, 1,
					  memory_order_release);
		notify(cl);
		return;
	}
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = fd;
	cl->w_line_start = true;
	if (!first) {
		atomic_fetch_add_explicit(&cl->reopens, 1,
					  memory_order_release);
		notify(cl);
	}
}

/* Give @n queued bytes' room back to the loop. */
static void advance(struct console_log *cl, uint64_t n)
{
	cl->w_head += n;
	atomic_store_explicit(&cl->head, cl->w_head, memory_order_release);
}

/* @n queued bytes cannot be written (@err): drop them; a new error
 * episode is published once. */
static void write_failed(struct console_log *cl, int err, uint64_t n)
{
	if (atomic_load_explicit(&cl->werr, memory_order_relaxed) == 0) {
		atomic_store_explicit(&cl->werr_first, err,
				      memory_order_relaxed);
		atomic_store_explicit(&cl->werr, err, memory_order_relaxed);
		atomic_fetch_add_explicit(&cl->write_errors, 1,
					  memory_order_release);
		cl->w_episode_dropped = 0;
		notify(cl);
	}
	cl->w_episode_dropped += n;
	atomic_fetch_add_explicit(&cl->dropped_write, n, memory_order_relaxed);
	advance(cl, n);
}

/* After write errors, the line that says what was lost; writing it is the
 * test of whether the file works again. Return: true if it does. */
static bool write_error_marker(struct console_log *cl)
{
	char line[320];
	char ebuf[96];
	size_t n = 0;
	int r;
	struct iovec iov;

	if (!cl->w_line_start)
		line[n++] = '\n';
	if (cl->timestamps) {
		now_stamp(line + n);
		n += CONSOLE_LOG_TS_LEN;
	}
	r = snprintf(
		line + n, sizeof(line) - n,
		"[vhost-device-console: %" PRIu64
		" bytes of the console log dropped: cannot write the log file: %s]\n",
		cl->w_episode_dropped,
		err_text(atomic_load(&cl->werr_first), ebuf, sizeof(ebuf)));
	if (r < 0)
		return false;
	n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	iov.iov_base = line;
	iov.iov_len = n;
	if (writev_cancellable(cl->fd, &iov, 1) < 0)
		return false;
	cl->w_line_start = true;
	atomic_store_explicit(&cl->werr, 0, memory_order_release);
	notify(cl);
	return true;
}

/* Write (or drop) what is queued up to @tail: one writev(2) at most. */
static void write_queued(struct console_log *cl, uint64_t tail)
{
	uint64_t avail = tail - cl->w_head;
	size_t off = (size_t)(cl->w_head % cl->cap);
	size_t first = cl->cap - off < avail ? cl->cap - off : (size_t)avail;
	struct iovec iov[2] = {
		{.iov_base = cl->buf + off, .iov_len = first},
		{.iov_base = cl->buf, .iov_len = (size_t)avail - first},
	};
	ssize_t r;

	if (cl->fd < 0) {
		write_failed(cl, cl->fd_err, avail);
		return;
	}
	if (atomic_load_explicit(&cl->werr, memory_order_relaxed) &&
	    !write_error_marker(cl)) {
		write_failed(cl, errno, avail);
		return;
	}
	r = writev_cancellable(cl->fd, iov, iov[1].iov_len ? 2 : 1);
	if (r < 0 && errno == EINTR)
		return;
	if (r <= 0) {
		write_failed(cl, r < 0 ? errno : EIO, avail);
		return;
	}
	cl->w_line_start =
		cl->buf[(cl->w_head + (uint64_t)r - 1) % cl->cap] == '\n';
	atomic_fetch_add_explicit(&cl->written, (uint64_t)r,
				  memory_order_relaxed);
	advance(cl, (uint64_t)r);
	if (atomic_load_explicit(&cl->overflowed, memory_order_relaxed) &&
	    atomic_exchange(&cl->overflowed, false))
		notify(cl);
}

/* Sleep until there is something to do; see the top of the file. */
static void wait_for_work(struct console_log *cl)
{
	pthread_mutex_lock(&cl->mu);
	atomic_store(&cl->sleeping, true);
	if (atomic_load(&cl->tail) == cl->w_head && !atomic_load(&cl->stop) &&
	    !atomic_load(&cl->reopen_req))
		pthread_cond_wait(&cl->wake, &cl->mu);
	atomic_store(&cl->sleeping, false);
	pthread_mutex_unlock(&cl->mu);
}

/* Runs when the thread ends, also when cancelled: tell the close. */
static void thread_gone(void *arg)
{
	struct console_log *cl = arg;

	pthread_mutex_lock(&cl->mu);
	cl->done = true;
	pthread_cond_broadcast(&cl->gone);
	pthread_mutex_unlock(&cl->mu);
}

static void *writer_main(void *arg)
{
	struct console_log *cl = arg;
	int old;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	pthread_cleanup_push(thread_gone, cl);
	if (cl->fd < 0)
		thread_open(cl, true);
	for (;;) {
		/* stop before tail: the loop queued its last bytes before
		 * it asked to stop, so they are seen. */
		bool stop =
			atomic_load_explicit(&cl->stop, memory_order_acquire);
		uint64_t tail;

		if (atomic_load_explicit(&cl->reopen_req,
					 memory_order_relaxed) &&
		    atomic_exchange(&cl->reopen_req, false))
			thread_open(cl, false);
		tail = atomic_load_explicit(&cl->tail, memory_order_acquire);
		if (tail != cl->w_head) {
			write_queued(cl, tail);
			continue;
		}
		if (stop)
			break;
		wait_for_work(cl);
	}
	pthread_cleanup_pop(1);
	return NULL;
}

/* ---- the loop's side ---- */

/* Wake the thread if it sleeps; it holds the mutex only briefly. */
static void wake_thread(struct console_log *cl, bool always)
{
	if (!always && !atomic_load(&cl->sleeping))
		return;
	pthread_mutex_lock(&cl->mu);
	pthread_cond_signal(&cl->wake);
	pthread_mutex_unlock(&cl->mu);
}

/* Open the file now, so that a bad path stops the worker at once with the
 * reason. A FIFO is opened without waiting: with no reader yet, the thread
 * opens it (and waits) instead. Return: 0, or -1 with @err written. */
static int open_now(struct console_log *cl, char *err, size_t errlen)
{
	struct stat st;
	bool fifo = stat(cl->path, &st) == 0 && S_ISFIFO(st.st_mode);
	char ebuf[96];
	int fd;

	fd = open(cl->path, OPEN_FLAGS | (fifo ? O_NONBLOCK : 0), OPEN_MODE);
	if (fd < 0 && fifo && errno == ENXIO) {
		cl->fd = -1;
		return 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the console log %s: %s",
			 cl->path, strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !file_type_ok(st.st_mode)) {
		snprintf(err, errlen, "cannot open the console log %s: %s",
			 cl->path, err_text(BAD_FILE_TYPE, ebuf, sizeof(ebuf)));
		close(fd);
		return -1;
	}
	if (fifo && fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) < 0) {
		snprintf(err, errlen, "cannot open the console log %s: %s",
			 cl->path, strerror_r(errno, ebuf, sizeof(ebuf)));
		close(fd);
		return -1;
	}
	cl->fd = fd;
	return 0;
}

/* The thread gets no signal meant for the daemon: they all stay blocked
 * in it (glibc's own cancellation signal cannot be blocked). */
static int start_thread(struct console_log *cl)
{
	sigset_t all;
	sigset_t old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&cl->thread, NULL, writer_main, cl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int init_sync(struct console_log *cl)
{
	pthread_condattr_t attr;

	if (pthread_mutex_init(&cl->mu, NULL))
		return -1;
	if (pthread_cond_init(&cl->wake, NULL))
		goto err_mu;
	if (pthread_condattr_init(&attr))
		goto err_wake;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&cl->gone, &attr)) {
		pthread_condattr_destroy(&attr);
		goto err_wake;
	}
	pthread_condattr_destroy(&attr);
	return 0;
err_wake:
	pthread_cond_destroy(&cl->wake);
err_mu:
	pthread_mutex_destroy(&cl->mu);
	return -1;
}

static void fini_sync(struct console_log *cl)
{
	pthread_cond_destroy(&cl->gone);
	pthread_cond_destroy(&cl->wake);
	pthread_mutex_destroy(&cl->mu);
}

static void free_log(struct console_log *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	if (cl->efd >= 0)
		close(cl->efd);
	free(cl->buf);
	free(cl->path);
	free(cl);
}

/**
 * console_log_open() - open the log file and start its writer thread
 * @cfg:	the path (the whole of it), timestamps, queue size, drain time
 * @err:	a one-line reason on failure
 * @errlen:	its size
 *
 * Call it in the worker, after fork: each worker has its own file and
 * thread. The queue's memory is not touched until output fills it.
 *
 * Return: the log, or NULL with @err written
 */
struct console_log *console_log_open(const struct console_log_config *cfg,
				     char *err, size_t errlen)
{
	size_t cap =
		cfg->queue_bytes ? cfg->queue_bytes : CONSOLE_LOG_QUEUE_DEFAULT;
	struct console_log *cl;

	if (cap < CONSOLE_LOG_QUEUE_MIN) {
		snprintf(err, errlen,
			 "console log queue of %zu bytes is below the least, %d",
			 cap, CONSOLE_LOG_QUEUE_MIN);
		return NULL;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cl->fd = -1;
	cl->efd = -1;
	cl->timestamps = cfg->timestamps;
	cl->drain_ms =
		cfg->drain_ms ? cfg->drain_ms : CONSOLE_LOG_DRAIN_MS_DEFAULT;
	cl->cap = cap;
	cl->q_line_start = true;
	cl->w_line_start = true;
	cl->path = strdup(cfg->path);
	cl->buf = malloc(cap);
	if (!cl->path || !cl->buf) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}
	cl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cl->efd < 0) {
		snprintf(err, errlen, "console log: eventfd: %s",
			 strerror(errno));
		goto err_free;
	}
	if (open_now(cl, err, errlen) < 0)
		goto err_free;
	if (init_sync(cl) < 0) {
		snprintf(err, errlen, "console log: cannot set up locks");
		goto err_free;
	}
	if (start_thread(cl) != 0) {
		snprintf(err, errlen, "console log: cannot start its thread");
		fini_sync(cl);
		goto err_free;
	}
	return cl;
err_free:
	free_log(cl);
	return NULL;
}

/* Copy @len bytes in at the tail; the caller checked the room. */
static void put(struct console_log *cl, const void *p, size_t len)
{
	size_t off = (size_t)(cl->q_tail % cl->cap);
	size_t first = cl->cap - off < len ? cl->cap - off : len;

	memcpy(cl->buf + off, p, first);
	memcpy(cl->buf, (const uint8_t *)p + first, len - first);
	cl->q_tail += len;
}

/* One append's state: its room and its timestamp, taken at most once. */
struct appending {
	size_t room;
	bool have_stamp;
	char stamp[CONSOLE_LOG_TS_LEN + 1];
};

static void put_stamp(struct console_log *cl, struct appending *a)
{
	if (!a->have_stamp) {
		now_stamp(a->stamp);
		a->have_stamp = true;
	}
	put(cl, a->stamp, CONSOLE_LOG_TS_LEN);
	a->room -= CONSOLE_LOG_TS_LEN;
}

/* The line that stands for dropped bytes, on a line of its own. Return:
 * false if it does not fit yet. */
static bool put_marker(struct console_log *cl, struct appending *a)
{
	char line[200];
	size_t need = cl->q_line_start ? 0 : 1;
	int r;

	r = snprintf(line, sizeof(line),
		     "[vhost-device-console: %" PRIu64
		     " bytes of console output dropped: the log file could not keep up]\n",
		     cl->drop_run);
	if (r < 0 || (size_t)r >= sizeof(line))
		return false;
	need += (size_t)r + (cl->timestamps ? CONSOLE_LOG_TS_LEN : 0);
	if (need > a->room)
		return false;
	if (!cl->q_line_start) {
		put(cl, "\n", 1);
		a->room--;
	}
	if (cl->timestamps)
		put_stamp(cl, a);
	put(cl, line, (size_t)r);
	a->room -= (size_t)r;
	cl->q_line_start = true;
	cl->drop_run = 0;
	return true;
}

/* Queue what fits of @p[0..len), a timestamp before each line's first
 * byte. Return: how many bytes of @p were queued. */
static size_t put_piece(struct console_log *cl, struct appending *a,
			const uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done;

		if (cl->timestamps) {
			const uint8_t *nl;

			if (cl->q_line_start) {
				if (a->room <= CONSOLE_LOG_TS_LEN)
					return done;
				put_stamp(cl, a);
				cl->q_line_start = false;
			}
			nl = memchr(p + done, '\n', chunk);
			if (nl)
				chunk = (size_t)(nl - (p + done)) + 1;
		}
		if (chunk > a->room)
			chunk = a->room;
		if (chunk == 0)
			return done;
		put(cl, p + done, chunk);
		a->room -= chunk;
		cl->q_line_start = p[done + chunk - 1] == '\n';
		done += chunk;
	}
	return done;
}

static void drop(struct console_log *cl, uint64_t n)
{
	cl->drop_run += n;
	cl->dropped_queue += n;
	atomic_store_explicit(&cl->overflowed, true, memory_order_relaxed);
}

/**
 * console_log_append() - queue guest output: @iov[0..n) past its first
 *			  @skip bytes
 *
 * Copies what fits in the queue and returns; never blocks, never
 * allocates. What does not fit is dropped and counted, and a marker line
 * takes its place as soon as there is room for it.
 */
void console_log_append(struct console_log *cl, const struct iovec *iov,
			unsigned int n, size_t skip)
{
	struct appending a = {0};
	uint64_t total = 0;
	uint64_t done = 0;

	for (unsigned int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (total <= skip)
		return;
	total -= skip;
	cl->appended += total;
	a.room = cl->cap - (size_t)(cl->q_tail -
				    atomic_load_explicit(&cl->head,
							 memory_order_acquire));
	if (cl->drop_run && !put_marker(cl, &a)) {
		drop(cl, total);
		return;
	}
	for (unsigned int i = 0; i < n && done < total; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;
		size_t put_n;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		put_n = put_piece(cl, &a, p, len);
		done += put_n;
		if (put_n < len) {
			drop(cl, total - done);
			break;
		}
	}
	atomic_store(&cl->tail, cl->q_tail);
	wake_thread(cl, false);
}

/**
 * console_log_reopen() - have the thread reopen the path, e.g. on SIGUSR1
 *			  after a log rotator moved the file
 *
 * Returns at once: the thread closes the old file and opens (creating)
 * the path between two writes, so every byte goes to one file or the
 * other. Call it from the loop, not from a signal handler.
 */
void console_log_reopen(struct console_log *cl)
{
	atomic_store(&cl->reopen_req, true);
	wake_thread(cl, false);
}

/**
 * console_log_event_fd() - readable when console_log_poll() has news
 *
 * Return: an eventfd the log owns; watch it for EPOLLIN
 */
int console_log_event_fd(const struct console_log *cl)
{
	return cl->efd;
}

static void report_write_errors(struct console_log *cl)
{
	uint64_t episodes =
		atomic_load_explicit(&cl->write_errors, memory_order_acquire);
	uint64_t dropped;
	char ebuf[96];

	if (episodes != cl->seen_write_errors) {
		cl->seen_write_errors = episodes;
		cl->in_error = true;
		log_warn("console log %s: cannot write it (%s); console output is dropped until writing works again",
			 cl->path,
			 err_text(atomic_load(&cl->werr_first), ebuf,
				  sizeof(ebuf)));
	}
	if (!cl->in_error || atomic_load(&cl->werr) != 0)
		return;
	cl->in_error = false;
	dropped =
		atomic_load_explicit(&cl->dropped_write, memory_order_relaxed);
	log_warn("console log %s: writing again; %" PRIu64
		 " bytes of the log were dropped",
		 cl->path, dropped - cl->reported_dropped_write);
	cl->reported_dropped_write = dropped;
}

static void report_reopens(struct console_log *cl)
{
	uint64_t ok = atomic_load_explicit(&cl->reopens, memory_order_acquire);
	uint64_t bad =
		atomic_load_explicit(&cl->reopen_errors, memory_order_acquire);
	char ebuf[96];

	if (ok != cl->seen_reopens) {
		cl->seen_reopens = ok;
		log_info("console log %s: reopened", cl->path);
	}
	if (bad == cl->seen_reopen_errors)
		return;
	cl->seen_reopen_errors = bad;
	if (atomic_load(&cl->reopen_kept))
		log_warn("console log %s: cannot reopen it (%s); still writing to the file opened before",
			 cl->path,
			 err_text(atomic_load(&cl->reopen_err), ebuf,
				  sizeof(ebuf)));
	else
		log_warn("console log %s: cannot open it (%s)", cl->path,
			 err_text(atomic_load(&cl->reopen_err), ebuf,
				  sizeof(ebuf)));
}

/* At most one line a second; @now_too: whatever the time. */
static void report_queue_drops(struct console_log *cl, bool now_too)
{
	uint64_t n = cl->dropped_queue - cl->reported_dropped_queue;
	struct timespec now;

	if (!n)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (!now_too && cl->drop_reported && now.tv_sec == cl->last_drop_report)
		return;
	cl->drop_reported = true;
	cl->last_drop_report = now.tv_sec;
	cl->reported_dropped_queue = cl->dropped_queue;
	log_warn("console log %s: %" PRIu64
		 " bytes of console output dropped: the log file could not keep up",
		 cl->path, n);
}

/**
 * console_log_poll() - say in the daemon's log what the thread met
 *
 * Call it when console_log_event_fd() is readable. Write errors are
 * reported once an episode, with the count when writing works again;
 * bytes the full queue dropped at most once a second (the rest with a
 * later report, or at close).
 */
void console_log_poll(struct console_log *cl)
{
	uint64_t v;
	ssize_t r = read(cl->efd, &v, sizeof(v));

	(void)r;
	report_write_errors(cl);
	report_reopens(cl);
	report_queue_drops(cl, false);
}

/** console_log_stats() - the counts so far */
void console_log_stats(const struct console_log *cl,
		       struct console_log_stats *st)
{
	st->appended = cl->appended;
	st->dropped_queue = cl->dropped_queue;
	st->queued = cl->q_tail;
	st->written = atomic_load_explicit(&cl->written, memory_order_relaxed);
	st->dropped_write =
		atomic_load_explicit(&cl->dropped_write, memory_order_relaxed);
	st->write_errors =
		atomic_load_explicit(&cl->write_errors, memory_order_relaxed);
	st->reopens = atomic_load_explicit(&cl->reopens, memory_order_relaxed);
	st->reopen_errors =
		atomic_load_explicit(&cl->reopen_errors, memory_order_relaxed);
}

/* Wait until the thread is done or @ms pass. Return: true if done. */
static bool wait_gone(struct console_log *cl, unsigned int ms)
{
	struct timespec until;
	bool done;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&cl->mu);
	while (!cl->done &&
	       pthread_cond_timedwait(&cl->gone, &cl->mu, &until) == 0)
		;
	done = cl->done;
	pthread_mutex_unlock(&cl->mu);
	return done;
}

/**
 * console_log_close() - write out what is queued, then stop and free
 *
 * Waits for the queue to drain at most the configured drain time (2 s by
 * default); a thread still stuck in write(2) or open(2) then is cancelled,
 * and what it had not written is reported lost. One that cannot even be
 * cancelled (a write in uninterruptible sleep) is left behind with its
 * memory, since the worker is exiting anyway.
 */
void console_log_close(struct console_log *cl)
{
	uint64_t unwritten;

	if (!cl)
		return;
	atomic_store_explicit(&cl->stop, true, memory_order_release);
	wake_thread(cl, true);
	if (!wait_gone(cl, cl->drain_ms)) {
		pthread_cancel(cl->thread);
		if (!wait_gone(cl, CANCEL_WAIT_MS)) {
			log_warn("console log %s: its writer is stuck in the file system; leaving it behind",
				 cl->path);
			pthread_detach(cl->thread);
			return;
		}
	}
	pthread_join(cl->thread, NULL);
	console_log_poll(cl);
	report_queue_drops(cl, true);
	unwritten = cl->q_tail - cl->w_head;
	if (unwritten)
		log_warn("console log %s: %" PRIu64
			 " bytes of the log not written at exit: the log file did not take them in time",
			 cl->path, unwritten);
	fini_sync(cl);
	free_log(cl);
}
