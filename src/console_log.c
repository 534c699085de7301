/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log.c - guest console output to a file, off the event loop.
 *
 * The hard decision: write(2) on a regular file can block (dirty-page
 * throttling, NFS, a slow full disk) and O_NONBLOCK does nothing for it, so
 * the event loop never writes the file. It copies guest output into a
 * bounded ring of records and a writer thread of this module
 * (console_log_writer.c) formats the records (console_log_format.c) and
 * writes them out. This file is the loop's side: open, append, resize,
 * reopen, what the daemon's log says, close.
 *
 * The ring holds records, one header (struct rec) and, for output, the
 * bytes: output with the time the loop received it, a count of bytes the
 * full ring dropped, a new console size, the start of the first file, a
 * reopen. Because a reopen is a record, it is carried out after what was
 * queued before it and before what comes after it: the bytes received
 * before SIGUSR1 end in the old file.
 *
 * Who owns what:
 *   - The loop owns the ring's tail and everything in struct console_log
 *     under "the loop's": it stamps each record with the time as it
 *     queues it.
 *   - The thread owns the ring's head, the fd and everything under "the
 *     thread's": it formats, writes, (re)opens, retries a file it cannot
 *     open, and handles write errors. It gives a record's room back once
 *     what it made of it was written.
 *   - They meet in atomics only: tail and head (a single-producer,
 *     single-consumer ring: the loop writes bytes and then publishes tail
 *     with release, the thread reads tail with acquire, writes those bytes
 *     and then publishes head with release, which gives their room back),
 *     the stop flag and the counters the thread publishes.
 *   - The mutex exists only to put the thread to sleep without a lost
 *     wake-up: the thread sets `sleeping` and checks for work under it; the
 *     loop publishes tail and then, only if `sleeping` is set, takes the
 *     mutex to signal. Both use sequentially consistent accesses, so either
 *     the loop sees `sleeping` or the thread sees the new tail. The thread
 *     never makes a system call while holding the mutex, so the loop waits
 *     for it no longer than a few instructions.
 *   - The thread never calls log_*(): it publishes counts and errno values
 *     and pokes an eventfd; console_log_poll(), on the loop, says what
 *     happened in the daemon's log. Drops of the full ring the loop sees
 *     itself, and says at once.
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

#include "console_log_queue.h"
#include "log.h"

#define OPEN_FLAGS                                                             \
	(O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW)
#define OPEN_MODE 0600
/* After the drain time, how long a cancelled thread may take to go. */
#define CANCEL_WAIT_MS 1000
/* At most one line a second about the full queue's drops; about bytes
 * that are not UTF-8, one a minute. */
#define UTF8_REPORT_SECS 60

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

/* console_log_err_text() - @err (an errno or BAD_*) as text */
const char *console_log_err_text(int err, char *buf, size_t len)
{
	if (err == BAD_FILE_TYPE)
		return "not a regular file, FIFO or character device";
	if (err == BAD_OWNER)
		return "it belongs to another user";
	if (err == ELOOP)
		return "a symbolic link, which the console log never follows";
	return strerror_r(err, buf, len);
}

/*
 * console_log_open_checked() - open @path for the log and check what it is
 * @extra:	more open flags (O_NONBLOCK for a FIFO not to wait)
 * @err:	set to an errno or BAD_* on failure
 *
 * A regular file or a FIFO of another user (root excepted) is refused: in
 * a directory others can write, they may have put it there to read the
 * guest's output.
 *
 * Return: the fd, or -1
 */
int console_log_open_checked(const char *path, int extra, int *err)
{
	struct stat st;
	int fd = open(path, OPEN_FLAGS | extra, OPEN_MODE);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*err = errno;
	} else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
		   !S_ISCHR(st.st_mode)) {
		*err = BAD_FILE_TYPE;
	} else if (!S_ISCHR(st.st_mode) && st.st_uid != geteuid() &&
		   st.st_uid != 0) {
		*err = BAD_OWNER;
	} else {
		return fd;
	}
	close(fd);
	return -1;
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
 * reason (unless @retry: then the thread tries again). A FIFO is opened
 * without waiting: with no reader yet, the thread opens it (and waits)
 * instead. Return: 0, or -1 with @err written. */
static int open_now(struct console_log *cl, bool retry, char *err,
		    size_t errlen)
{
	struct stat st;
	bool fifo = lstat(cl->path, &st) == 0 && S_ISFIFO(st.st_mode);
	char ebuf[96];
	int code = 0;
	int fd = console_log_open_checked(cl->path, fifo ? O_NONBLOCK : 0,
					  &code);

	if (fd < 0 && ((fifo && code == ENXIO) || retry)) {
		cl->fd_err = code;
		return 0;
	}
	if (fd >= 0 && fifo && fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) < 0) {
		code = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the console log %s: %s",
			 cl->path,
			 console_log_err_text(code, ebuf, sizeof(ebuf)));
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
	r = pthread_create(&cl->thread, NULL, console_log_writer_main, cl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int init_sync(struct console_log *cl)
{
	pthread_condattr_t attr;

	if (pthread_mutex_init(&cl->mu, NULL))
		return -1;
	if (pthread_condattr_init(&attr))
		goto err_mu;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&cl->wake, &attr))
		goto err_attr;
	if (pthread_cond_init(&cl->gone, &attr)) {
		pthread_cond_destroy(&cl->wake);
		goto err_attr;
	}
	pthread_condattr_destroy(&attr);
	return 0;
err_attr:
	pthread_condattr_destroy(&attr);
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
	free(cl->out.p);
	free(cl->buf);
	free(cl->path);
	free(cl);
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

static size_t room_now(const struct console_log *cl)
{
	return cl->cap -
	       (size_t)(cl->q_tail -
			atomic_load_explicit(&cl->head, memory_order_acquire));
}

/* A record of @kind stamped now, with the console's size. */
static struct rec record(const struct console_log *cl, enum rec_kind kind)
{
	struct rec r = {.kind = kind, .cols = cl->cols, .rows = cl->rows};
	struct log_time at =
		log_fmt_clock(cl->format, cl->timestamps,
			      kind == REC_BEGIN || kind == REC_REOPEN);

	r.ns = at.ns;
	r.wall = at.wall;
	return r;
}

/* A reopen or a resize the full queue could not take yet, queued before
 * anything else; they may use the reserve. */
static void queue_pending(struct console_log *cl, size_t *room)
{
	struct rec r;

	if (cl->pending_reopen && *room >= sizeof(r)) {
		r = record(cl, REC_REOPEN);
		put(cl, &r, sizeof(r));
		*room -= sizeof(r);
		cl->pending_reopen = false;
		cl->pending_size = false;
	}
	if (cl->pending_size && !cl->pending_reopen && *room >= sizeof(r)) {
		r = record(cl, REC_RESIZE);
		put(cl, &r, sizeof(r));
		*room -= sizeof(r);
		cl->pending_size = false;
	}
}

static void publish(struct console_log *cl)
{
	atomic_store(&cl->tail, cl->q_tail);
	wake_thread(cl, false);
}

/**
 * console_log_open() - open the log file and start its writer thread
 * @cfg:	the path (the whole of it), format, size, queue, drain time
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
	struct rec r;

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
	cl->format = cfg->format;
	cl->timestamps = cfg->timestamps;
	cl->fmt.format = cfg->format;
	cl->fmt.timestamps = cfg->timestamps;
	cl->fmt.line_start = true;
	cl->cols = (uint16_t)cfg->cols;
	cl->rows = (uint16_t)cfg->rows;
	cl->drain_ms =
		cfg->drain_ms ? cfg->drain_ms : CONSOLE_LOG_DRAIN_MS_DEFAULT;
	cl->cap = cap;
	cl->w_line_start = true;
	cl->path = strdup(cfg->path);
	cl->buf = malloc(cap);
	cl->out.p = malloc(OUT_BYTES);
	cl->out.cap = OUT_BYTES;
	if (!cl->path || !cl->buf || !cl->out.p) {
		snprintf(err, errlen, "out of memory");
		goto err_free;
	}
	cl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cl->efd < 0) {
		snprintf(err, errlen, "console log: eventfd: %s",
			 strerror(errno));
		goto err_free;
	}
	if (open_now(cl, cfg->retry, err, errlen) < 0)
		goto err_free;
	r = record(cl, REC_BEGIN);
	put(cl, &r, sizeof(r));
	atomic_store(&cl->tail, cl->q_tail);
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

static void drop(struct console_log *cl, uint64_t n)
{
	cl->drop_run += n;
	cl->dropped_queue += n;
}

/* The marker of what was dropped, before the next output. Return: false
 * if it does not fit yet. */
static bool queue_drop_marker(struct console_log *cl, size_t *avail)
{
	struct rec r;

	if (*avail < sizeof(r))
		return false;
	r = record(cl, REC_DROPPED);
	r.count =
		cl->drop_run > UINT32_MAX ? UINT32_MAX : (uint32_t)cl->drop_run;
	put(cl, &r, sizeof(r));
	*avail -= sizeof(r);
	cl->drop_run = 0;
	return true;
}

/* Copy @iov[0..n) past @skip in, @len bytes at most. */
static void put_iov(struct console_log *cl, const struct iovec *iov,
		    unsigned int n, size_t skip, size_t len)
{
	for (unsigned int i = 0; i < n && len; i++) {
		size_t piece = iov[i].iov_len;

		if (skip >= piece) {
			skip -= piece;
			continue;
		}
		piece -= skip;
		if (piece > len)
			piece = len;
		put(cl, (const uint8_t *)iov[i].iov_base + skip, piece);
		len -= piece;
		skip = 0;
	}
}

/**
 * console_log_append() - queue guest output: @iov[0..n) past its first
 *			  @skip bytes
 *
 * Copies what fits in the queue, with the time, and returns; never
 * blocks, never allocates. What does not fit is dropped, counted and
 * logged (at once, then at most once a second), and a marker takes its
 * place in the file as soon as there is room for it.
 */
void console_log_append(struct console_log *cl, const struct iovec *iov,
			unsigned int n, size_t skip)
{
	size_t room = room_now(cl);
	size_t avail;
	uint64_t total = 0;
	size_t take = 0;
	struct rec r;

	for (unsigned int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (total <= skip)
		return;
	total -= skip;
	cl->appended += total;
	queue_pending(cl, &room);
	avail = room > CONSOLE_LOG_RESERVE ? room - CONSOLE_LOG_RESERVE : 0;
	if ((!cl->drop_run || queue_drop_marker(cl, &avail)) &&
	    avail > sizeof(r)) {
		take = avail - sizeof(r) < total ? avail - sizeof(r)
						 : (size_t)total;
		r = record(cl, REC_DATA);
		r.len = (uint32_t)take;
		put(cl, &r, sizeof(r));
		put_iov(cl, iov, n, skip, take);
		cl->q_data += take;
	}
	publish(cl);
	if (take < total) {
		drop(cl, total - take);
		report_queue_drops(cl, false);
	}
}

/**
 * console_log_resize() - the console is @cols x @rows from now on
 *
 * An asciicast gets an "r" event in its place among the output; a raw
 * log ignores it. Same size as before: nothing.
 */
void console_log_resize(struct console_log *cl, unsigned int cols,
			unsigned int rows)
{
	size_t room = room_now(cl);

	if (cols == cl->cols && rows == cl->rows)
		return;
	cl->cols = (uint16_t)cols;
	cl->rows = (uint16_t)rows;
	if (cl->format != CONSOLE_LOG_ASCIICAST)
		return;
	cl->pending_size = true;
	queue_pending(cl, &room);
	publish(cl);
}

/**
 * console_log_reopen() - have the thread reopen the path, e.g. on SIGUSR1
 *			  after a log rotator moved the file
 *
 * Returns at once. The request is queued after what was queued before:
 * the thread writes that to the old file, then closes it and opens
 * (creating) the path; with a format that has one, the new file starts
 * with its own header. Call it from the loop, not from a signal handler.
 */
void console_log_reopen(struct console_log *cl)
{
	size_t room = room_now(cl);

	cl->pending_reopen = true;
	queue_pending(cl, &room);
	publish(cl);
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
		/* No file at all was said as the open's failure. */
		if (!atomic_load(&cl->werr_nofile))
			log_warn("console log %s: cannot write it (%s); console output is dropped until writing works again",
				 cl->path,
				 console_log_err_text(atomic_load(
							      &cl->werr_first),
						      ebuf, sizeof(ebuf)));
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
	uint64_t runs =
		atomic_load_explicit(&cl->open_failures, memory_order_acquire);
	char ebuf[96];

	if (runs != cl->seen_open_failures) {
		cl->seen_open_failures = runs;
		if (atomic_load(&cl->reopen_kept))
			log_warn("console log %s: cannot reopen it (%s); still writing to the file opened before; trying again, and at SIGUSR1",
				 cl->path,
				 console_log_err_text(atomic_load(
							      &cl->reopen_err),
						      ebuf, sizeof(ebuf)));
		else
			log_warn("console log %s: cannot open it (%s); the console goes on without its log; trying again, and at SIGUSR1",
				 cl->path,
				 console_log_err_text(atomic_load(
							      &cl->reopen_err),
						      ebuf, sizeof(ebuf)));
	}
	if (ok != cl->seen_reopens) {
		cl->seen_reopens = ok;
		log_info("console log %s: reopened", cl->path);
	}
}

/* Bytes an asciicast wrote as U+FFFD: at most one line a minute. */
static void report_not_utf8(struct console_log *cl, bool now_too)
{
	uint64_t all =
		atomic_load_explicit(&cl->not_utf8, memory_order_acquire);
	struct timespec now;

	if (all == cl->reported_not_utf8)
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (!now_too && cl->utf8_reported &&
	    now.tv_sec - cl->last_utf8_report < UTF8_REPORT_SECS)
		return;
	cl->utf8_reported = true;
	cl->last_utf8_report = now.tv_sec;
	log_info("console log %s: %" PRIu64
		 " bytes of console output were not UTF-8; the recording has U+FFFD for each",
		 cl->path, all - cl->reported_not_utf8);
	cl->reported_not_utf8 = all;
}

/**
 * console_log_poll() - say in the daemon's log what the thread met
 *
 * Call it when console_log_event_fd() is readable. Write errors are
 * reported once an episode, with the count when writing works again; a
 * file that cannot be opened once a run of failed tries; bytes the full
 * queue dropped at most once a second (the rest with a later report, or
 * at close).
 */
void console_log_poll(struct console_log *cl)
{
	uint64_t v;
	ssize_t r = read(cl->efd, &v, sizeof(v));

	(void)r;
	report_write_errors(cl);
	report_reopens(cl);
	report_queue_drops(cl, false);
	report_not_utf8(cl, false);
}

/** console_log_stats() - the counts so far */
void console_log_stats(const struct console_log *cl,
		       struct console_log_stats *st)
{
	st->appended = cl->appended;
	st->dropped_queue = cl->dropped_queue;
	st->queued = cl->q_tail;
	st->taken = atomic_load_explicit(&cl->head, memory_order_acquire);
	st->written = atomic_load_explicit(&cl->written, memory_order_relaxed);
	st->dropped_write =
		atomic_load_explicit(&cl->dropped_write, memory_order_relaxed);
	st->write_errors =
		atomic_load_explicit(&cl->write_errors, memory_order_relaxed);
	st->reopens = atomic_load_explicit(&cl->reopens, memory_order_relaxed);
	st->reopen_errors =
		atomic_load_explicit(&cl->reopen_errors, memory_order_relaxed);
	st->not_utf8 =
		atomic_load_explicit(&cl->not_utf8, memory_order_relaxed);
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
	report_not_utf8(cl, true);
	unwritten = cl->q_data -
		    atomic_load_explicit(&cl->data_done, memory_order_acquire);
	if (unwritten)
		log_warn("console log %s: %" PRIu64
			 " bytes of the log not written at exit: the log file did not take them in time",
			 cl->path, unwritten);
	fini_sync(cl);
	free_log(cl);
}
