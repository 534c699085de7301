/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log_queue.h - what console_log.c (the loop's side) and
 * console_log_writer.c (the writer thread) share, and nobody else: the
 * queue's records and the log's state, grouped by owner. The rules of who
 * may touch what are at the top of console_log.c.
 */
#ifndef VDC_CONSOLE_LOG_QUEUE_H
#define VDC_CONSOLE_LOG_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "console_log.h"

/* Why a file was refused, besides an errno. */
#define BAD_FILE_TYPE (-1)
#define BAD_OWNER     (-2)
/* The thread formats into a buffer of this size, then writes it. */
#define OUT_BYTES ((size_t)64 * 1024)

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

const char *console_log_err_text(int err, char *buf, size_t len);
int console_log_open_checked(const char *path, int extra, int *err);
void *console_log_writer_main(void *arg);

#endif
