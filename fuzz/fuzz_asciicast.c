/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_asciicast.c - libFuzzer target: the console log's asciicast
 * formatting (console_log_format.c, asciicast.c) of any bytes a guest may
 * write, cut into any pieces, into buffers of any size.
 *
 * The input's first byte seeds the cuts and the buffer sizes; the rest is
 * the guest's output. Between pieces come notes, resizes and, now and
 * then, a new file.
 *
 * Findings: anything ASan or UBSan reports, and any line that is not what
 * asciinema's strict reader takes: the header first, then
 * `[SECONDS.MMM, "o"|"r", "TEXT"]` lines whose times never go back and
 * whose TEXT is well-formed UTF-8 with JSON's escapes only, and no line
 * cut at the end of a buffer the writer would write out.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console_log_format.h"

#define OUT_CAP 8192

static uint32_t rng;

static uint32_t next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* The length of the well-formed UTF-8 sequence at @p, or 0. */
static size_t utf8_len(const uint8_t *p, size_t left)
{
	uint8_t b = p[0];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4;
	else
		return 0;
	if (b == 0xe0)
		lo = 0xa0;
	if (b == 0xed)
		hi = 0x9f;
	if (b == 0xf0)
		lo = 0x90;
	if (b == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* A JSON string's inside, from @p up to its closing quote. Return: the
 * closing quote, or NULL if the text is not what a strict reader takes. */
static const uint8_t *check_string(const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p != '"') {
		size_t n;

		if (*p == '\\') {
			if (end - p < 2)
				return NULL;
			if (strchr("\"\\bfnrt", p[1]) && p[1]) {
				p += 2;
				continue;
			}
			if (p[1] != 'u' || end - p < 6 ||
			    memcmp(p + 2, "00", 2) != 0 ||
			    !strchr("01", p[4]) || !p[4] ||
			    !strchr("0123456789abcdef", p[5]) || !p[5])
				return NULL;
			p += 6;
			continue;
		}
		if (*p < 0x20)
			return NULL;
		n = utf8_len(p, (size_t)(end - p));
		if (!n)
			return NULL;
		p += n;
	}
	return p < end ? p : NULL;
}

/* One event line [@p, @end) (no newline); its time in *ms. */
static bool check_event(const uint8_t *p, const uint8_t *end, uint64_t *ms)
{
	uint64_t secs = 0;
	const uint8_t *q;

	if (*p++ != '[')
		return false;
	if (p == end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9')
		secs = secs * 10 + (uint64_t)(*p++ - '0');
	if (end - p < 4 || p[0] != '.' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || p[3] < '0' || p[3] > '9')
		return false;
	*ms = secs * 1000 + (uint64_t)(p[1] - '0') * 100 +
	      (uint64_t)(p[2] - '0') * 10 + (uint64_t)(p[3] - '0');
	p += 4;
	if (end - p < 9 || (memcmp(p, ", \"o\", \"", 8) != 0 &&
			    memcmp(p, ", \"r\", \"", 8) != 0))
		return false;
	q = check_string(p + 8, end);
	return q && end - q == 2 && q[1] == ']';
}

struct run {
	struct log_fmt f;
	struct log_buf b;
	uint64_t last_ms;
	bool header_next;
	char buf[OUT_CAP];
};

/* Check what the buffer holds: whole lines only, each valid. */
static void check_out(struct run *r)
{
	const uint8_t *p = (const uint8_t *)r->b.p;
	const uint8_t *end = p + r->b.len;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		uint64_t ms = 0;

		if (!nl)
			abort(); /* a line cut at the end of a buffer */
		if (r->header_next) {
			if (memcmp(p, "{\"version\": 2, ", 15) != 0)
				abort();
			r->header_next = false;
			r->last_ms = 0;
		} else {
			if (!check_event(p, nl, &ms) || ms < r->last_ms)
				abort();
			r->last_ms = ms;
		}
		p = nl + 1;
	}
	r->b.len = 0;
}

/* Room for a note, a header or a resize (LOG_FMT_NOTE_MAX). */
static void make_room(struct run *r)
{
	if (r->b.cap - r->b.len < LOG_FMT_NOTE_MAX)
		check_out(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	size_t pos = 1;
	int64_t ns = 0;

	if (size < 1)
		return 0;
	rng = data[0];
	memset(&r.f, 0, sizeof(r.f));
	r.f.format = CONSOLE_LOG_ASCIICAST;
	r.b = (struct log_buf){.p = r.buf,
			       .cap = LOG_FMT_NOTE_MAX + 64 + next() % 4096};
	r.header_next = true;
	log_fmt_begin(&r.f, &r.b, 0, 0, 80, 24);
	while (pos < size) {
		size_t piece = 1 + next() % 64;
		uint32_t what = next() % 32;

		if (piece > size - pos)
			piece = size - pos;
		ns += (int64_t)(next() % 3) * 1000000;
		make_room(&r);
		if (what == 0)
			log_fmt_note(&r.f, &r.b, ns,
				     "[vhost-device-console: a note]");
		else if (what == 1)
			log_fmt_resize(&r.f, &r.b, ns, next() % 500,
				       next() % 200);
		else if (what == 2) {
			log_fmt_end(&r.f, &r.b);
			check_out(&r);
			r.header_next = true;
			log_fmt_begin(&r.f, &r.b, ns, 1, 80, 24);
		}
		while (piece) {
			size_t n =
				log_fmt_data(&r.f, &r.b, ns, data + pos, piece);

			pos += n;
			piece -= n;
			if (piece)
				check_out(&r);
		}
	}
	make_room(&r);
	log_fmt_end(&r.f, &r.b);
	check_out(&r);
	return 0;
}
