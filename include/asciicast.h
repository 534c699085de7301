/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * asciicast.h - asciicast v2 lines (the format asciinema records and
 * plays) from a guest's bytes, with no I/O.
 *
 * A recording is one JSON object, the header, then one JSON array a line,
 * the events:
 *
 *   {"version": 2, "width": 80, "height": 24, "timestamp": 1796219766}
 *   [0.125, "o", "login: "]
 *   [3.500, "r", "100x30"]
 *
 * Every line is valid JSON and valid UTF-8 whatever the guest writes. A
 * UTF-8 sequence cut between two pieces of output is held (consumed, not
 * written) until the piece that completes it; each byte that is not part
 * of well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no
 * surrogates, nothing past U+10FFFF) is written as U+FFFD, one for each
 * such byte, and counted, which is what a UTF-8 terminal shows for it.
 */
#ifndef VDC_ASCIICAST_H
#define VDC_ASCIICAST_H

#include <stddef.h>
#include <stdint.h>

/* Room for any header or "r" event this module writes, with its NUL. */
#define ASCIICAST_LINE_MAX 128
/* The most asciicast_escape() writes for one input byte: three held
 * bytes as U+FFFD (9) and the byte itself as \u00XX (6). */
#define ASCIICAST_CHAR_MAX 16
/* An "o" event's frame: `[18446744073709551.615, "o", "` and `"]\n`. */
#define ASCIICAST_EVENT_HEAD_MAX 40
#define ASCIICAST_EVENT_TAIL	 "\"]\n"
#define ASCIICAST_EVENT_TAIL_LEN 3

/* A UTF-8 sequence that began and has not ended yet. */
struct asciicast_utf8 {
	uint8_t held[3];
	uint8_t n; /* bytes held */
	uint8_t need; /* the sequence's whole length */
	uint64_t invalid; /* bytes written as U+FFFD so far */
};

size_t asciicast_header(char *out, size_t cap, unsigned int cols,
			unsigned int rows, int64_t timestamp);
size_t asciicast_resize(char *out, size_t cap, uint64_t t_ms, unsigned int cols,
			unsigned int rows);
size_t asciicast_event_head(char *out, uint64_t t_ms);
size_t asciicast_escape(struct asciicast_utf8 *u, char *out, size_t room,
			const uint8_t *in, size_t len, size_t *used);
size_t asciicast_release(struct asciicast_utf8 *u, char *out);

#endif
