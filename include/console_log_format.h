/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log_format.h - the console log's file contents, from what the
 * loop queued: raw bytes (with or without a time at each line start) or
 * an asciicast v2 recording. No I/O: the writer thread formats into a
 * buffer and writes the buffer.
 */
#ifndef VDC_CONSOLE_LOG_FORMAT_H
#define VDC_CONSOLE_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asciicast.h"

struct timespec;

/* "2026-12-02T13:56:06.123Z ": the prefix of each line with timestamps. */
#define CONSOLE_LOG_TS_LEN 25

enum console_log_format {
	CONSOLE_LOG_RAW,
	CONSOLE_LOG_ASCIICAST,
};

/* Room any call but log_fmt_data() needs in the buffer: a note line, a
 * header, a resize event. */
#define LOG_FMT_NOTE_MAX 512

/* Where the formatted bytes go; the caller writes and empties it. */
struct log_buf {
	char *p;
	size_t len;
	size_t cap;
};

/* One file's formatting state. */
struct log_fmt {
	enum console_log_format format;
	bool timestamps; /* raw only */
	bool line_start; /* what was formatted ends a line */
	int64_t base_ns; /* asciicast: the header's time */
	uint64_t last_ms; /* asciicast: the latest event's time */
	struct asciicast_utf8 utf8;
};

/* A record's time: in the format's clock, and the wall clock's seconds. */
struct log_time {
	int64_t ns;
	int64_t wall;
};

struct log_time log_fmt_clock(enum console_log_format format, bool timestamps,
			      bool wall);
void log_fmt_begin(struct log_fmt *f, struct log_buf *b, int64_t ns,
		   int64_t wall, unsigned int cols, unsigned int rows);
size_t log_fmt_data(struct log_fmt *f, struct log_buf *b, int64_t ns,
		    const uint8_t *p, size_t len);
void log_fmt_note(struct log_fmt *f, struct log_buf *b, int64_t ns,
		  const char *text);
void log_fmt_resize(struct log_fmt *f, struct log_buf *b, int64_t ns,
		    unsigned int cols, unsigned int rows);
void log_fmt_end(struct log_fmt *f, struct log_buf *b);

void console_log_format_time(char out[CONSOLE_LOG_TS_LEN + 1],
			     const struct timespec *ts);

#endif
