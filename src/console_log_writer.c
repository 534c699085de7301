/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log_writer.c - the console log's writer thread: it takes the
 * records the loop queued (console_log.c), formats them
 * (console_log_format.c), writes the file, and reopens or retries it.
 *
 * The hard decision: the thread may block anywhere in write(2) or open(2)
 * (a FIFO without a reader), and close cancels it then; so cancellation is
 * on only around those calls, and no frame on the way to them has a local
 * whose address is taken (see write_cancellable()). The thread gives a
 * record's room in the queue back only once what it made of it is in the
 * file, so the queue's size bounds what the log holds back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console_log_queue.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Tell the loop to call console_log_poll(); an eventfd never blocks. */
static void notify(struct console_log *cl)
{
	uint64_t one = 1;
	ssize_t r = write(cl->efd, &one, sizeof(one));

	(void)r;
}

/* A blocking call the close may cancel: cancellation is off elsewhere, so
 * the thread never goes while holding the mutex or halfway through its
 * bookkeeping. No frame from console_log_writer_main() down to such a call has a
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
	fd = console_log_open_checked(path, 0, err);
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
		 console_log_err_text(atomic_load(&cl->werr_first), ebuf,
				      sizeof(ebuf)));
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

	make_room(cl); /* a retry may come with the buffer near full */
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

/**
 * console_log_writer_main() - the writer thread
 * @arg:	its struct console_log
 *
 * Return: NULL, once the loop asked it to stop and all was written
 */
void *console_log_writer_main(void *arg)
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
