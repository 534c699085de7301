/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * asciicast.c - asciicast v2 headers and events, and the JSON string
 * escaping with a UTF-8 check that makes them valid whatever the guest
 * writes.
 *
 * The hard decision: bytes that are not UTF-8 cannot be put in a JSON
 * string as they are, and asciinema reads each line with a strict UTF-8
 * JSON reader. Each such byte becomes U+FFFD (what a UTF-8 terminal shows
 * in its place, so a replay looks as the live console did, column for
 * column) and is counted for the daemon's log; valid UTF-8 is copied
 * unchanged, so `asciinema cat` gives back the guest's bytes exactly when
 * they were UTF-8.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "asciicast.h"

static const char hex[] = "0123456789abcdef";
static const uint8_t replacement[3] = {0xef, 0xbf, 0xbd}; /* U+FFFD */

/**
 * asciicast_header() - the first line of a recording
 * @out:	at least ASCIICAST_LINE_MAX bytes
 * @cap:	its size
 * @cols:	the console's width
 * @rows:	its height
 * @timestamp:	the recording's start, seconds since the epoch
 *
 * Return: the line's length, its newline included
 */
size_t asciicast_header(char *out, size_t cap, unsigned int cols,
			unsigned int rows, int64_t timestamp)
{
	int n = snprintf(
		out, cap,
		"{\"version\": 2, \"width\": %u, \"height\": %u, \"timestamp\": %" PRId64
		"}\n",
		cols, rows, timestamp);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/**
 * asciicast_resize() - an "r" event: the console is @cols x @rows from
 *			@t_ms milliseconds after the header's time
 *
 * Return: the line's length, its newline included
 */
size_t asciicast_resize(char *out, size_t cap, uint64_t t_ms, unsigned int cols,
			unsigned int rows)
{
	int n = snprintf(out, cap, "[%" PRIu64 ".%03u, \"r\", \"%ux%u\"]\n",
			 t_ms / 1000, (unsigned int)(t_ms % 1000), cols, rows);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/**
 * asciicast_event_head() - the start of an "o" event at @t_ms, up to its
 *			    string's opening quote
 * @out:	at least ASCIICAST_EVENT_HEAD_MAX bytes
 *
 * The string follows (asciicast_escape()), then ASCIICAST_EVENT_TAIL.
 *
 * Return: its length
 */
size_t asciicast_event_head(char *out, uint64_t t_ms)
{
	int n = snprintf(out, ASCIICAST_EVENT_HEAD_MAX,
			 "[%" PRIu64 ".%03u, \"o\", \"", t_ms / 1000,
			 (unsigned int)(t_ms % 1000));

	return n < 0 ? 0 : (size_t)n;
}

/* The length of the sequence @b begins, or 0 if it begins none. */
static uint8_t sequence_length(uint8_t b)
{
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

/* Whether @b may follow @lead as the sequence's second byte (table 3-7:
 * this is where overlong forms, surrogates and > U+10FFFF are refused). */
static int second_byte_ok(uint8_t lead, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf;

	if (lead == 0xe0)
		lo = 0xa0;
	else if (lead == 0xed)
		hi = 0x9f;
	else if (lead == 0xf0)
		lo = 0x90;
	else if (lead == 0xf4)
		hi = 0x8f;
	return b >= lo && b <= hi;
}

/**
 * asciicast_release() - give up the held bytes: one U+FFFD each
 * @out:	room for 9 bytes
 *
 * For a sequence that can no longer end: a byte that does not continue
 * it came, or the file ends.
 *
 * Return: bytes written
 */
size_t asciicast_release(struct asciicast_utf8 *u, char *out)
{
	size_t w = 0;

	for (uint8_t i = 0; i < u->n; i++) {
		memcpy(out + w, replacement, sizeof(replacement));
		w += sizeof(replacement);
	}
	u->invalid += u->n;
	u->n = 0;
	u->need = 0;
	return w;
}

/* An ASCII byte inside a JSON string. */
static size_t put_ascii(char *out, uint8_t b)
{
	static const char short_form[] = {
		['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',  ['\f'] = 'f',
		['\r'] = 'r', ['"'] = '"',  ['\\'] = '\\',
	};

	if (b < sizeof(short_form) && short_form[b]) {
		out[0] = '\\';
		out[1] = short_form[b];
		return 2;
	}
	if (b < 0x20) {
		out[0] = '\\';
		out[1] = 'u';
		out[2] = '0';
		out[3] = '0';
		out[4] = hex[b >> 4];
		out[5] = hex[b & 15];
		return 6;
	}
	out[0] = (char)b;
	return 1;
}

/* One byte: an ASCII character, a sequence's byte, or an invalid one. */
static size_t put_byte(struct asciicast_utf8 *u, char *out, uint8_t b)
{
	size_t w = 0;

	if (u->n) {
		int fits = u->n == 1 ? second_byte_ok(u->held[0], b)
				     : b >= 0x80 && b <= 0xbf;

		if (fits && u->n + 1 == u->need) {
			memcpy(out, u->held, u->n);
			out[u->n] = (char)b;
			w = (size_t)u->n + 1;
			u->n = 0;
			u->need = 0;
			return w;
		}
		if (fits) {
			u->held[u->n++] = b;
			return 0;
		}
		w = asciicast_release(u, out);
	}
	if (b < 0x80)
		return w + put_ascii(out + w, b);
	u->need = sequence_length(b);
	if (u->need) {
		u->held[0] = b;
		u->n = 1;
		return w;
	}
	u->invalid++;
	memcpy(out + w, replacement, sizeof(replacement));
	return w + sizeof(replacement);
}

/**
 * asciicast_escape() - @in as the inside of a JSON string
 * @u:		the sequence held from the last call, if any
 * @out:	where the text goes
 * @room:	bytes free at @out; stops when fewer than ASCIICAST_CHAR_MAX
 * @in:		the guest's bytes
 * @len:	how many
 * @used:	set to how many of @in were taken (written or held)
 *
 * Return: bytes written at @out
 */
size_t asciicast_escape(struct asciicast_utf8 *u, char *out, size_t room,
			const uint8_t *in, size_t len, size_t *used)
{
	size_t w = 0;
	size_t i = 0;

	while (i < len && room - w >= ASCIICAST_CHAR_MAX) {
		/* Printable ASCII, the common case, skips the state. */
		if (!u->n && in[i] >= 0x20 && in[i] < 0x80 && in[i] != '"' &&
		    in[i] != '\\') {
			out[w++] = (char)in[i++];
			continue;
		}
		w += put_byte(u, out + w, in[i++]);
	}
	*used = i;
	return w;
}
