/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log.h - a guest's console output appended to a file.
 *
 * `--console-log=PATH`: worker i appends everything its guest writes to the
 * console to PATH + i, byte for byte, whether or not a client is connected.
 * With `--console-log-timestamps` every line starts with the time its first
 * byte arrived, "2026-12-02T13:56:06.123Z " (UTC, milliseconds); the bytes
 * are otherwise unchanged.
 *
 * The file is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC|O_NOCTTY, mode
 * 0600 when created: an existing file is appended to, never truncated, and
 * keeps its mode. A regular file, a FIFO or a character device (/dev/null,
 * a serial line) is accepted; a directory, socket or block device is
 * refused when the log is opened.
 *
 * Nothing here blocks the caller. console_log_append() copies into a
 * bounded queue and returns; a writer thread of its own does the write(2)s,
 * which may block for as long as the file system likes, and the reopen.
 * What does not fit in the queue is dropped and counted, and the file gets
 * one line in its place, on a line of its own:
 *
 *   [vhost-device-console: 12345 bytes of console output dropped: the log file
 * could not keep up]
 *
 * A write error (ENOSPC, EIO, ...) drops what could not be written, is
 * reported once until writing works again, and leaves a like line in the
 * file when it does.
 *
 * Every function is called from one thread, the worker's event loop, and
 * only after the worker was forked: a log is never carried across fork().
 */
#ifndef VDC_CONSOLE_LOG_H
#define VDC_CONSOLE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#define CONSOLE_LOG_QUEUE_DEFAULT    ((size_t)1024 * 1024)
#define CONSOLE_LOG_QUEUE_MIN	     4096
#define CONSOLE_LOG_DRAIN_MS_DEFAULT 2000
/* "2026-12-02T13:56:06.123Z ": the prefix of each line with timestamps. */
#define CONSOLE_LOG_TS_LEN 25

struct console_log;

struct console_log_config {
	const char *path; /* the whole path: the caller adds the index */
	bool timestamps;
	size_t queue_bytes; /* 0: CONSOLE_LOG_QUEUE_DEFAULT; at least _MIN */
	unsigned int drain_ms; /* close waits this long; 0: the default */
};

/* Counts since the log was opened (see console_log_stats()). */
struct console_log_stats {
	uint64_t appended; /* console bytes handed to console_log_append() */
	uint64_t dropped_queue; /* console bytes the full queue refused */
	uint64_t queued; /* bytes queued: console bytes, timestamps, markers */
	uint64_t written; /* queued bytes the file took */
	uint64_t dropped_write; /* queued bytes lost to write errors */
	uint64_t write_errors; /* episodes: an error until a write works */
	uint64_t reopens; /* reopen requests carried out */
	uint64_t reopen_errors; /* ... that failed, the old file kept */
};

int console_log_path(char *buf, size_t len, const char *base,
		     unsigned int index);
struct console_log *console_log_open(const struct console_log_config *cfg,
				     char *err, size_t errlen);
void console_log_append(struct console_log *cl, const struct iovec *iov,
			unsigned int n, size_t skip);
void console_log_reopen(struct console_log *cl);
int console_log_event_fd(const struct console_log *cl);
void console_log_poll(struct console_log *cl);
void console_log_stats(const struct console_log *cl,
		       struct console_log_stats *st);
void console_log_close(struct console_log *cl);

void console_log_format_time(char out[CONSOLE_LOG_TS_LEN + 1],
			     const struct timespec *ts);

#endif
