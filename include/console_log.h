/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log.h - a guest's console output appended to a file.
 *
 * `--console-log=PATH`: worker i appends everything its guest writes to the
 * console to PATH + i, whether or not a client is connected, in one of two
 * formats (console_log_format.h): raw, byte for byte (with
 * `--console-log-timestamps` every line starts with the time its first
 * byte arrived, "2026-12-02T13:56:06.123Z "), or an asciicast v2
 * recording (`--console-log-format=asciicast`) that asciinema plays: a
 * header with the console's size, an "o" event for each batch of output
 * at the time the loop received it, an "r" event when the size changes.
 *
 * The file is opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC|O_NOCTTY|
 * O_NOFOLLOW, mode 0600 when created: an existing file is appended to,
 * never truncated, and keeps its mode. A regular file, a FIFO or a
 * character device (/dev/null, a serial line) is accepted; a directory,
 * socket or block device is refused, and so is a symbolic link (never
 * followed: the daemon may run as root in a directory others can write)
 * and a regular file or FIFO that belongs to another user than the
 * daemon's or root (whoever owns it could read the guest's output).
 *
 * Nothing here blocks the caller. console_log_append() copies into a
 * bounded queue and returns; a writer thread of its own formats and
 * writes, which may block for as long as the file system likes, and
 * reopens. A reopen is a record in that queue, so every byte queued
 * before it goes to the old file and every byte after it to the new one.
 * What does not fit in the queue is dropped and counted, reported in the
 * daemon's log at once (then at most once a second), and the file gets
 * one line in its place, on a line of its own:
 *
 *   [vhost-device-console: 12345 bytes of console output dropped: the log file
 * could not keep up]
 *
 * A write error (ENOSPC, EIO, ...) drops what could not be written, is
 * reported once until writing works again, and leaves a like line in the
 * file when it does (in a recording, the part of a line written before
 * the error is cut off again, so every line stays JSON). A file that cannot be
 * opened (at a reopen, or at the start of a worker the supervisor restarted) is
 * an error of the log, not of the console: the output is dropped and counted,
 * and the thread tries again after 1 s, 2 s, 4 s ... at most every 60 s, and at
 * each reopen.
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

#include "console_log_format.h"

#define CONSOLE_LOG_QUEUE_DEFAULT    ((size_t)1024 * 1024)
#define CONSOLE_LOG_QUEUE_MIN	     4096
#define CONSOLE_LOG_DRAIN_MS_DEFAULT 2000
/* What each append, resize or reopen takes of the queue besides the
 * console's bytes: one record header. */
#define CONSOLE_LOG_RECORD ((size_t)32)
/* The queue's room only resizes and reopens may use, so that they are
 * queued in order even when output fills the queue. */
#define CONSOLE_LOG_RESERVE (8 * CONSOLE_LOG_RECORD)
/* The writer's retries of a file it cannot open. */
#define CONSOLE_LOG_RETRY_MIN_MS 1000
#define CONSOLE_LOG_RETRY_MAX_MS 60000

struct console_log;

struct console_log_config {
	const char *path; /* the whole path: the caller adds the index */
	enum console_log_format format;
	bool timestamps; /* raw only */
	bool retry; /* a file that cannot be opened now is retried, not an
		     * error of console_log_open() */
	unsigned int cols, rows; /* the console's size now (asciicast) */
	size_t queue_bytes; /* 0: CONSOLE_LOG_QUEUE_DEFAULT; at least _MIN */
	unsigned int drain_ms; /* close waits this long; 0: the default */
};

/* Counts since the log was opened (see console_log_stats()). */
struct console_log_stats {
	uint64_t appended; /* console bytes handed to console_log_append() */
	uint64_t dropped_queue; /* console bytes the full queue refused */
	uint64_t queued; /* queue bytes used: records and console bytes */
	uint64_t taken; /* ... that the thread is done with */
	uint64_t written; /* bytes the file took */
	uint64_t dropped_write; /* bytes of the file lost to write errors */
	uint64_t write_errors; /* episodes: an error until a write works */
	uint64_t reopens; /* files opened after the first */
	uint64_t reopen_errors; /* attempts to open that failed */
	uint64_t not_utf8; /* asciicast: bytes written as U+FFFD */
};

int console_log_path(char *buf, size_t len, const char *base,
		     unsigned int index);
struct console_log *console_log_open(const struct console_log_config *cfg,
				     char *err, size_t errlen);
void console_log_append(struct console_log *cl, const struct iovec *iov,
			unsigned int n, size_t skip);
void console_log_resize(struct console_log *cl, unsigned int cols,
			unsigned int rows);
void console_log_reopen(struct console_log *cl);
int console_log_event_fd(const struct console_log *cl);
void console_log_poll(struct console_log *cl);
void console_log_stats(const struct console_log *cl,
		       struct console_log_stats *st);
void console_log_close(struct console_log *cl);

#endif
