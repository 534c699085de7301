/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console_log_format.c - what the console log's file holds, from the
 * records the loop queued: the guest's bytes as they came (raw), each line
 * after a time if asked, or an asciicast v2 recording.
 *
 * The hard decision: every time in the file is the time the loop received
 * the bytes, carried in the queue with them, not the time the writer
 * thread got to them; a file system that stalls for a minute delays the
 * file, not the times in it. An asciicast's times come from the monotonic
 * clock (a replay never goes backwards when the wall clock is set), its
 * header's from the wall clock.
 */
#include <string.h>
#include <time.h>

#include "console_log_format.h"

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
 * gmtime_r(), which takes glibc's time zone lock.
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

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/**
 * log_fmt_clock() - the time a record carries, in the format's clock
 * @format:	raw or asciicast
 * @timestamps:	raw with a time at each line start
 * @wall:	the wall clock's seconds too (a header's)
 *
 * Return: .ns: CLOCK_MONOTONIC for an asciicast, CLOCK_REALTIME for raw
 * with timestamps, 0 for raw without (no clock is read); .wall if asked
 */
struct log_time log_fmt_clock(enum console_log_format format, bool timestamps,
			      bool wall)
{
	struct log_time t = {0};
	struct timespec ts;
	bool stamps = format == CONSOLE_LOG_RAW && timestamps;

	if (format == CONSOLE_LOG_ASCIICAST) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t.ns = ns_of(&ts);
	}
	if (wall || stamps) {
		clock_gettime(CLOCK_REALTIME, &ts);
		t.wall = ts.tv_sec;
		if (stamps)
			t.ns = ns_of(&ts);
	}
	return t;
}

static size_t room(const struct log_buf *b)
{
	return b->cap - b->len;
}

static void put(struct log_buf *b, const void *p, size_t len)
{
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void put_stamp(struct log_buf *b, int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000,
			      .tv_nsec = ns % 1000000000};

	console_log_format_time(b->p + b->len, &ts);
	b->len += CONSOLE_LOG_TS_LEN;
}

/* An asciicast event's time: from the header, never before the last. */
static uint64_t event_ms(struct log_fmt *f, int64_t ns)
{
	uint64_t ms =
		ns > f->base_ns ? (uint64_t)(ns - f->base_ns) / 1000000 : 0;

	if (ms < f->last_ms)
		ms = f->last_ms;
	f->last_ms = ms;
	return ms;
}

/**
 * log_fmt_begin() - a new file: its header, if the format has one
 * @f:		the state, reset for the file
 * @b:		at least LOG_FMT_NOTE_MAX bytes free
 * @ns:		the file's start, in the format's clock
 * @wall:	... and in seconds since the epoch
 * @cols:	the console's size then
 * @rows:	...
 */
void log_fmt_begin(struct log_fmt *f, struct log_buf *b, int64_t ns,
		   int64_t wall, unsigned int cols, unsigned int rows)
{
	f->line_start = true;
	f->base_ns = ns;
	f->last_ms = 0;
	f->utf8.n = 0;
	f->utf8.need = 0;
	if (f->format == CONSOLE_LOG_ASCIICAST)
		b->len += asciicast_header(b->p + b->len, room(b), cols, rows,
					   wall);
}

/* Raw: what fits of @p, a time before each line's first byte if asked. */
static size_t raw_data(struct log_fmt *f, struct log_buf *b, int64_t ns,
		       const uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done;

		if (f->timestamps) {
			const uint8_t *nl;

			if (f->line_start) {
				if (room(b) <= CONSOLE_LOG_TS_LEN)
					return done;
				put_stamp(b, ns);
				f->line_start = false;
			}
			nl = memchr(p + done, '\n', chunk);
			if (nl)
				chunk = (size_t)(nl - (p + done)) + 1;
		}
		if (chunk > room(b))
			chunk = room(b);
		if (chunk == 0)
			return done;
		put(b, p + done, chunk);
		f->line_start = p[done + chunk - 1] == '\n';
		done += chunk;
	}
	return done;
}

/* asciicast: one "o" event of what fits of @p; none if all is held. */
static size_t cast_data(struct log_fmt *f, struct log_buf *b, int64_t ns,
			const uint8_t *p, size_t len)
{
	size_t start = b->len;
	size_t used = 0;
	size_t text;

	if (room(b) < ASCIICAST_EVENT_HEAD_MAX + ASCIICAST_CHAR_MAX +
			      ASCIICAST_EVENT_TAIL_LEN)
		return 0;
	b->len += asciicast_event_head(b->p + b->len, event_ms(f, ns));
	text = asciicast_escape(&f->utf8, b->p + b->len,
				room(b) - ASCIICAST_EVENT_TAIL_LEN, p, len,
				&used);
	if (used)
		f->line_start = p[used - 1] == '\n';
	if (!text) {
		b->len = start;
		return used;
	}
	b->len += text;
	put(b, ASCIICAST_EVENT_TAIL, ASCIICAST_EVENT_TAIL_LEN);
	return used;
}

/**
 * log_fmt_data() - format what fits of @p[0..len), received at @ns
 *
 * Return: bytes of @p taken; fewer than @len when @b is full (write it
 * out, empty it and call again with the rest)
 */
size_t log_fmt_data(struct log_fmt *f, struct log_buf *b, int64_t ns,
		    const uint8_t *p, size_t len)
{
	if (f->format == CONSOLE_LOG_ASCIICAST)
		return cast_data(f, b, ns, p, len);
	return raw_data(f, b, ns, p, len);
}

/* The held bytes of a sequence that can no longer end, as an event. */
static void release_held(struct log_fmt *f, struct log_buf *b)
{
	if (!f->utf8.n)
		return;
	b->len += asciicast_event_head(b->p + b->len, f->last_ms);
	b->len += asciicast_release(&f->utf8, b->p + b->len);
	put(b, ASCIICAST_EVENT_TAIL, ASCIICAST_EVENT_TAIL_LEN);
	f->line_start = false;
}

/* Raw: after a newline if the guest's line had not ended, with a time if
 * the lines have them. */
static void raw_note(struct log_fmt *f, struct log_buf *b, int64_t ns,
		     const char *text)
{
	if (!f->line_start)
		put(b, "\n", 1);
	if (f->timestamps)
		put_stamp(b, ns);
	put(b, text, strlen(text));
	put(b, "\n", 1);
}

/* asciicast: an "o" event, CR LF around the text as a terminal needs. */
static void cast_note(struct log_fmt *f, struct log_buf *b, int64_t ns,
		      const char *text)
{
	struct asciicast_utf8 plain = {0};
	size_t used = 0;

	release_held(f, b);
	b->len += asciicast_event_head(b->p + b->len, event_ms(f, ns));
	if (!f->line_start)
		put(b, "\\r\\n", 4);
	/* Our text is ASCII; escaped all the same, and cut if too long. */
	b->len += asciicast_escape(&plain, b->p + b->len,
				   room(b) - 4 - ASCIICAST_EVENT_TAIL_LEN,
				   (const uint8_t *)text, strlen(text), &used);
	put(b, "\\r\\n", 4);
	put(b, ASCIICAST_EVENT_TAIL, ASCIICAST_EVENT_TAIL_LEN);
}

/**
 * log_fmt_note() - a line of the daemon's own (@text, ASCII, no newline)
 *		    on a line of its own, among the guest's at @ns
 * @b:		at least LOG_FMT_NOTE_MAX bytes free
 */
void log_fmt_note(struct log_fmt *f, struct log_buf *b, int64_t ns,
		  const char *text)
{
	if (room(b) < LOG_FMT_NOTE_MAX)
		return; /* the caller broke the contract: never overflow */
	if (f->format == CONSOLE_LOG_ASCIICAST)
		cast_note(f, b, ns, text);
	else
		raw_note(f, b, ns, text);
	f->line_start = true;
}

/**
 * log_fmt_resize() - the console is @cols x @rows from @ns on
 * @b:		at least LOG_FMT_NOTE_MAX bytes free
 *
 * An "r" event in an asciicast; nothing in a raw log.
 */
void log_fmt_resize(struct log_fmt *f, struct log_buf *b, int64_t ns,
		    unsigned int cols, unsigned int rows)
{
	if (f->format != CONSOLE_LOG_ASCIICAST)
		return;
	b->len += asciicast_resize(b->p + b->len, room(b), event_ms(f, ns),
				   cols, rows);
}

/**
 * log_fmt_end() - the file ends: a UTF-8 sequence still held is written
 *		   as what it is, bytes that are not UTF-8
 * @b:		at least LOG_FMT_NOTE_MAX bytes free
 */
void log_fmt_end(struct log_fmt *f, struct log_buf *b)
{
	if (f->format == CONSOLE_LOG_ASCIICAST && room(b) >= LOG_FMT_NOTE_MAX)
		release_held(f, b);
}
