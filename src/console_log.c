/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log.c - guest console output to a file, off the event loop.
 *
 * The hard decision: write(2) on a regular file can block (dirty-page
 * throttling, NFS, a slow full disk) and O_NONBLOCK does nothing for it, so
 * the event loop never writes the file. It copies guest output into a
 * bounded ring of records and a writer thread of this module formats the
 * records (console_log_format.c) and writes them out.
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

#include "console_log.h"
#include "log.h"

#define OPEN_FLAGS                                                             \
	(O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW)
#define OPEN_MODE 0600
/* After the drain time, how long a cancelled thread may take to go. */
#define CANCEL_WAIT_MS 1000
/* Why a file was refused, besides an errno. */
#define BAD_FILE_TYPE (-1)
#define BAD_OWNER     (-2)
/* The thread formats into a buffer of this size, then writes it. */
#define OUT_BYTES ((size_t)64 * 1024)
/* At most one line a second about the full queue's drops; about bytes
 * that are not UTF-8, one a minute. */
#define UTF8_REPORT_SECS 60

enum rec_kind {
	REC_DATA = 1, /* len console bytes follow */
	REC_DROPPED, /* count: console bytes the full ring refused */
	REC_RESIZE, /* cols x rows */
	REC_BEGIN, /* the first file begins (a header, if any) */
	REC_REOPEN, /* close the file, open the path, begin it */
};

/* A record's header in the ring; console bytes follow a REC_DATA. */
struct rec {
	uint32_t kind;
	uint32_t len;
	int64_t ns; /* log_fmt_clock() when queued */
	int64_t wall; /* REC_BEGIN, REC_REOPEN: seconds since the epoch */
	uint16_t cols, rows; /* REC_RESIZE, REC_BEGIN, REC_REOPEN */
	uint32_t count; /* REC_DROPPED, saturated */
};

_Static_assert(sizeof(struct rec) == CONSOLE_LOG_RECORD,
	       "CONSOLE_LOG_RECORD is a record header's size");

/* Grouped by owner; within a group, widest first. */
struct console_log {
	/* Set by console_log_open(), then only read. */
	char *path;
	uint8_t *buf;
	size_t cap;
	pthread_t thread;
	unsigned int drain_ms;
	int efd; /* eventfd: the thread has news for console_log_poll() */
	enum console_log_format format;
	bool timestamps;

	/* The ring: byte counts since open; the bytes of [head, tail) are
	 * queued at buf[i % cap]. */
	_Atomic uint64_t tail; /* the loop's: bytes ever queued */
	_Atomic uint64_t head; /* the thread's: bytes it is done with */

	pthread_mutex_t mu; /* see the top of the file */
	pthread_cond_t wake; /* the thread sleeps on it; CLOCK_MONOTONIC */
	pthread_cond_t gone; /* the thread is done; CLOCK_MONOTONIC */
	bool done; /* under mu */
	atomic_bool sleeping;
	atomic_bool stop;

	/* Published by the thread for the loop. */
	_Atomic uint64_t written;
	_Atomic uint64_t dropped_write;
	_Atomic uint64_t write_errors;
	_Atomic uint64_t reopens;
	_Atomic uint64_t reopen_errors;
	_Atomic uint64_t open_failures; /* runs of failed opens begun */
	_Atomic uint64_t data_done; /* console bytes written or dropped */
	_Atomic uint64_t not_utf8;
	atomic_int werr; /* errno of the write error now, 0 when none */
	atomic_int werr_first; /* errno that began the latest episode */
	atomic_int reopen_err; /* errno (or BAD_*) of the latest failed open */
	atomic_bool werr_nofile; /* werr_first was a file not open */
	atomic_bool reopen_kept; /* reopen_err: a file was still open */

	/* The thread's. */
	struct log_fmt fmt;
	struct log_buf out;
	struct rec w_rec; /* the record being taken */
	uint64_t w_pos; /* ring position read up to, >= head */
	uint64_t w_left; /* console bytes of w_rec not formatted yet */
	uint64_t w_data; /* console bytes in out */
	uint64_t w_episode_dropped;
	uint64_t w_retry_at; /* CLOCK_MONOTONIC ms of the next try; 0 none */
	size_t w_marker_end; /* out holds the error line up to here; 0 none */
	unsigned int w_retry_ms; /* the wait before the try after */
	unsigned int w_tries; /* failed opens in a row */
	int fd; /* -1: not open; fd_err says why */
	int fd_err;
	int w_open_err;
	uint16_t w_cols, w_rows; /* the size the records said last */

	/* The loop's. */
	uint64_t q_tail; /* == tail */
	uint64_t appended;
	uint64_t dropped_queue;
	uint64_t drop_run; /* dropped since the last marker was queued */
	uint64_t seen_write_errors;
	uint64_t seen_reopens;
	uint64_t seen_open_failures;
	uint64_t reported_dropped_write;
	uint64_t reported_dropped_queue;
	uint64_t reported_not_utf8;
	uint64_t q_data; /* console bytes queued */
	time_t last_drop_report;
	time_t last_utf8_report;
	uint16_t cols, rows; /* the console's size, as the loop knows it */
	bool pending_reopen; /* no room for the record yet */
	bool pending_size;
	bool in_error; /* reported a write error, not yet its end */
	bool drop_reported; /* last_drop_report is set */
	bool utf8_reported; /* last_utf8_report is set */

	/* The thread's too, last for their sizes. */
	bool w_line_start; /* the last byte written ended a line */
	char w_note[320]; /* a line of ours for the file */
};

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

static const char *err_text(int err, char *buf, size_t len)
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
 * open_checked() - open @path for the log and check what it is
 * @extra:	more open flags (O_NONBLOCK for a FIFO not to wait)
 * @err:	set to an errno or BAD_* on failure
 *
 * A regular file or a FIFO of another user (root excepted) is refused: in
 * a directory others can write, they may have put it there to read the
 * guest's output.
 *
 * Return: the fd, or -1
 */
static int open_checked(const char *path, int extra, int *err)
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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
 * bookkeeping. No frame from writer_main() down to such a call has a
 * local whose address is taken (glibc allows a NULL old state): ASan's
 * stack poisoning does not survive the unwinding of a cancellation. */
static ssize_t write_cancellable(int fd, const void *p, size_t len)
{
	ssize_t r;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	r = write(fd, p, len);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	return r;
}

/* Open the path as the writer does: it may block on a FIFO until a
 * reader comes. */
static int open_cancellable(const char *path, int *err)
{
	int fd;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	fd = open_checked(path, 0, err);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	return fd;
}

/* The thread is done with the ring up to w_pos: give the room back. */
static void give_back(struct console_log *cl)
{
	atomic_store_explicit(&cl->head, cl->w_pos, memory_order_release);
}

/* @n bytes of the file cannot be written (@err): drop them; a new error
 * episode is published once. */
static void write_failed(struct console_log *cl, int err, uint64_t n)
{
	if (atomic_load_explicit(&cl->werr, memory_order_relaxed) == 0) {
		atomic_store_explicit(&cl->werr_first, err,
				      memory_order_relaxed);
		atomic_store_explicit(&cl->werr_nofile, cl->fd < 0,
				      memory_order_relaxed);
		atomic_store_explicit(&cl->werr, err, memory_order_relaxed);
		atomic_fetch_add_explicit(&cl->write_errors, 1,
					  memory_order_release);
		cl->w_episode_dropped = 0;
		notify(cl);
	}
	cl->w_episode_dropped += n;
	atomic_fetch_add_explicit(&cl->dropped_write, n, memory_order_relaxed);
}

/*
 * cut_partial_line() - a write error left part of an asciicast line in the
 * file: cut it off (a regular file only), so that every line stays JSON
 *
 * Return: how many of the buffer's first @done bytes are in the file now
 */
static size_t cut_partial_line(struct console_log *cl, size_t done)
{
	const char *nl;
	size_t keep = 0;
	off_t end;

	if (cl->format != CONSOLE_LOG_ASCIICAST || cl->out.p[done - 1] == '\n')
		return done;
	nl = memrchr(cl->out.p, '\n', done);
	if (nl)
		keep = (size_t)(nl - cl->out.p) + 1;
	end = lseek(cl->fd, 0, SEEK_END);
	if (end < (off_t)(done - keep) ||
	    ftruncate(cl->fd, end - (off_t)(done - keep)) < 0)
		return done; /* a FIFO: the error line ends the cut one */
	return keep;
}

/* Write out the buffer, then give the ring's room back. After write
 * errors the buffer begins with the line that says what was lost; writing
 * it is the test of whether the file works again. */
static void flush_out(struct console_log *cl)
{
	size_t len = cl->out.len;
	size_t done = 0;
	int err = cl->fd_err;

	while (cl->fd >= 0 && done < len) {
		ssize_t r =
			write_cancellable(cl->fd, cl->out.p + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? errno : EIO;
			break;
		}
		done += (size_t)r;
	}
	if (done && done < len)
		done = cut_partial_line(cl, done);
	if (done) {
		cl->w_line_start = cl->out.p[done - 1] == '\n';
		atomic_fetch_add_explicit(&cl->written, done,
					  memory_order_relaxed);
	}
	if (cl->w_marker_end && done >= cl->w_marker_end) {
		atomic_store_explicit(&cl->werr, 0, memory_order_release);
		notify(cl);
	}
	if (done < len)
		write_failed(cl, err,
			     len - (done > cl->w_marker_end
					    ? done
					    : cl->w_marker_end));
	atomic_fetch_add_explicit(&cl->data_done, cl->w_data,
				  memory_order_release);
	if (cl->fmt.utf8.invalid !=
	    atomic_load_explicit(&cl->not_utf8, memory_order_relaxed)) {
		atomic_store_explicit(&cl->not_utf8, cl->fmt.utf8.invalid,
				      memory_order_release);
		notify(cl);
	}
	cl->w_data = 0;
	cl->w_marker_end = 0;
	cl->out.len = 0;
	give_back(cl);
}

/* Before anything else goes in the buffer after write errors: the line
 * saying what was lost, on a line of its own in the file. */
static void mark_errors(struct console_log *cl, int64_t ns)
{
	char ebuf[96];

	if (cl->w_marker_end || cl->fd < 0 ||
	    !atomic_load_explicit(&cl->werr, memory_order_relaxed))
		return;
	if (cl->format == CONSOLE_LOG_ASCIICAST && !cl->w_line_start &&
	    cl->out.len == 0)
		cl->out.p[cl->out.len++] = '\n'; /* end a cut-off event */
	if (cl->format == CONSOLE_LOG_RAW && cl->out.len == 0)
		cl->fmt.line_start = cl->w_line_start;
	snprintf(cl->w_note, sizeof(cl->w_note),
		 "[vhost-device-console: %" PRIu64
		 " bytes of the console log dropped: cannot %s the log file: %s]",
		 cl->w_episode_dropped,
		 atomic_load(&cl->werr_nofile) ? "open" : "write",
		 err_text(atomic_load(&cl->werr_first), ebuf, sizeof(ebuf)));
	log_fmt_note(&cl->fmt, &cl->out, ns, cl->w_note);
	cl->w_marker_end = cl->out.len;
}

/* Room in the buffer for a note, a header or an event frame, or write
 * it out first. */
static void make_room(struct console_log *cl)
{
	if (cl->out.cap - cl->out.len < (size_t)2 * LOG_FMT_NOTE_MAX)
		flush_out(cl);
}

/* A file was opened: the formatting starts over, with a header. */
static void begin_file(struct console_log *cl, struct log_time at)
{
	make_room(cl);
	log_fmt_begin(&cl->fmt, &cl->out, at.ns, at.wall, cl->w_cols,
		      cl->w_rows);
	cl->w_line_start = true;
}

/* An open failed: try again later, waiting longer each time. */
static void retry_later(struct console_log *cl, int err)
{
	if (cl->w_tries++ == 0) {
		cl->w_retry_ms = CONSOLE_LOG_RETRY_MIN_MS;
		atomic_store(&cl->reopen_err, err);
		atomic_store(&cl->reopen_kept, cl->fd >= 0);
		atomic_fetch_add_explicit(&cl->open_failures, 1,
					  memory_order_release);
		notify(cl);
	} else if (cl->w_retry_ms < CONSOLE_LOG_RETRY_MAX_MS) {
		cl->w_retry_ms *= 2;
		if (cl->w_retry_ms > CONSOLE_LOG_RETRY_MAX_MS)
			cl->w_retry_ms = CONSOLE_LOG_RETRY_MAX_MS;
	}
	atomic_fetch_add_explicit(&cl->reopen_errors, 1, memory_order_relaxed);
	cl->w_retry_at = now_ms() + cl->w_retry_ms;
}

/*
 * open_file() - close the file and open the path again: a reopen, a
 * retry, or the first open of a FIFO nobody read yet
 * @at:		the new file's start (a header's time)
 * @begin:	false for the first open: the first record begins it
 *
 * What was formatted for the old file goes there first. A failed reopen
 * keeps the file that was open: its bytes are safe there, if under the
 * old name.
 */
static void open_file(struct console_log *cl, struct log_time at, bool begin)
{
	int fd;

	log_fmt_end(&cl->fmt, &cl->out);
	flush_out(cl);
	fd = open_cancellable(cl->path, &cl->w_open_err);
	if (fd < 0) {
		if (cl->fd < 0)
			cl->fd_err = cl->w_open_err;
		retry_later(cl, cl->w_open_err);
		return;
	}
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = fd;
	cl->w_tries = 0;
	cl->w_retry_at = 0;
	if (!begin)
		return;
	begin_file(cl, at);
	atomic_fetch_add_explicit(&cl->reopens, 1, memory_order_release);
	notify(cl);
}

/* Copy @len bytes at ring position @pos out to @dst. */
static void ring_read(const struct console_log *cl, uint64_t pos, void *dst,
		      size_t len)
{
	size_t off = (size_t)(pos % cl->cap);
	size_t first = cl->cap - off < len ? cl->cap - off : len;

	memcpy(dst, cl->buf + off, first);
	memcpy((uint8_t *)dst + first, cl->buf, len - first);
}

static struct log_time rec_time(const struct rec *r)
{
	return (struct log_time){.ns = r->ns, .wall = r->wall};
}

/* Carry out one record other than output. */
static void take_record(struct console_log *cl, const struct rec *r)
{
	switch (r->kind) {
	case REC_DROPPED:
		snprintf(cl->w_note, sizeof(cl->w_note),
			 "[vhost-device-console: %" PRIu32
			 " bytes of console output dropped: the log file could not keep up]",
			 r->count);
		log_fmt_note(&cl->fmt, &cl->out, r->ns, cl->w_note);
		break;
	case REC_RESIZE:
		cl->w_cols = r->cols;
		cl->w_rows = r->rows;
		log_fmt_resize(&cl->fmt, &cl->out, r->ns, r->cols, r->rows);
		break;
	case REC_BEGIN:
		cl->w_cols = r->cols;
		cl->w_rows = r->rows;
		if (cl->fd >= 0)
			begin_file(cl, rec_time(r));
		break;
	case REC_REOPEN:
		cl->w_cols = r->cols;
		cl->w_rows = r->rows;
		open_file(cl, rec_time(r), true);
		break;
	default:
		break;
	}
}

/*
 * format_queued() - format records up to @tail into the buffer
 *
 * Return: true if the buffer is full (write it out and come back)
 */
static bool format_queued(struct console_log *cl, uint64_t tail)
{
	while (cl->w_pos != tail) {
		size_t off;
		size_t seg;
		size_t n;

		if (!cl->w_left) {
			make_room(cl);
			ring_read(cl, cl->w_pos, &cl->w_rec, sizeof(cl->w_rec));
			cl->w_pos += sizeof(cl->w_rec);
			mark_errors(cl, cl->w_rec.ns);
			if (cl->w_rec.kind != REC_DATA) {
				take_record(cl, &cl->w_rec);
				continue;
			}
			cl->w_left = cl->w_rec.len;
			continue;
		}
		off = (size_t)(cl->w_pos % cl->cap);
		seg = cl->cap - off < cl->w_left ? cl->cap - off
						 : (size_t)cl->w_left;
		n = log_fmt_data(&cl->fmt, &cl->out, cl->w_rec.ns,
				 cl->buf + off, seg);
		cl->w_pos += n;
		cl->w_left -= n;
		cl->w_data += n;
		if (n < seg)
			return true;
	}
	return false;
}

/* Sleep until there is something to do (or a retry is due); see the top
 * of the file. */
static void wait_for_work(struct console_log *cl)
{
	struct timespec until;

	pthread_mutex_lock(&cl->mu);
	atomic_store(&cl->sleeping, true);
	if (atomic_load(&cl->tail) == cl->w_pos && !atomic_load(&cl->stop)) {
		if (!cl->w_retry_at) {
			pthread_cond_wait(&cl->wake, &cl->mu);
		} else {
			until.tv_sec = (time_t)(cl->w_retry_at / 1000);
			until.tv_nsec = (long)(cl->w_retry_at % 1000) * 1000000;
			pthread_cond_timedwait(&cl->wake, &cl->mu, &until);
		}
	}
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

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(thread_gone, cl);
	if (cl->fd < 0)
		open_file(cl, (struct log_time){0}, false);
	for (;;) {
		/* stop before tail: the loop queued its last bytes before
		 * it asked to stop, so they are seen. */
		bool stop =
			atomic_load_explicit(&cl->stop, memory_order_acquire);
		uint64_t tail =
			atomic_load_explicit(&cl->tail, memory_order_acquire);

		if (cl->w_retry_at && now_ms() >= cl->w_retry_at &&
		    !cl->w_left) {
			open_file(cl,
				  log_fmt_clock(cl->format, cl->timestamps,
						true),
				  true);
			continue;
		}
		if (cl->w_pos != tail) {
			if (format_queued(cl, tail))
				flush_out(cl);
			continue;
		}
		if (cl->out.len ||
		    atomic_load_explicit(&cl->head, memory_order_relaxed) !=
			    cl->w_pos) {
			flush_out(cl);
			continue;
		}
		if (stop)
			break;
		wait_for_work(cl);
	}
	log_fmt_end(&cl->fmt, &cl->out);
	flush_out(cl);
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
	int fd = open_checked(cl->path, fifo ? O_NONBLOCK : 0, &code);

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
			 cl->path, err_text(code, ebuf, sizeof(ebuf)));
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
	uint64_t runs =
		atomic_load_explicit(&cl->open_failures, memory_order_acquire);
	char ebuf[96];

	if (runs != cl->seen_open_failures) {
		cl->seen_open_failures = runs;
		if (atomic_load(&cl->reopen_kept))
			log_warn("console log %s: cannot reopen it (%s); still writing to the file opened before; trying again, and at SIGUSR1",
				 cl->path,
				 err_text(atomic_load(&cl->reopen_err), ebuf,
					  sizeof(ebuf)));
		else
			log_warn("console log %s: cannot open it (%s); the console goes on without its log; trying again, and at SIGUSR1",
				 cl->path,
				 err_text(atomic_load(&cl->reopen_err), ebuf,
					  sizeof(ebuf)));
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
