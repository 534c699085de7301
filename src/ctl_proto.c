/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * ctl_proto.c - parse control requests, frame answers (ctl_proto.h).
 *
 * Every byte comes from a local process that may be hostile, so a line is
 * accepted only as printable ASCII words separated by single blanks; a
 * trailing CR is forgiven (a person typing through socat or telnet).
 * Answers carry their length, so a body may hold anything (JSON, many
 * lines) and a client never has to guess where it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "web_ticket.h"

#define BODY_MAX ((size_t)1 << 30) /* a length a client accepts */

const char ctl_help_text[] =
	"status          one line per guest\n"
	"status json     the same as one JSON object\n"
	"version         the daemon's version\n"
	"help            this list\n"
	"ticket guest=I [ttl=30s] [watch]\n"
	"                a one-time web console ticket for guest I\n";

/**
 * ctl_line_end() - where the first request line in @buf ends
 *
 * Return: the index of its '\n', or -1 when no line is complete yet
 */
ssize_t ctl_line_end(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);

	return nl ? nl - buf : -1;
}

/* Split @line into words; false on a character no command uses. */
static bool split(const char *line, size_t len, const char *w[CTL_MAX_WORDS],
		  size_t wl[CTL_MAX_WORDS], unsigned int *n)
{
	size_t i = 0;

	*n = 0;
	while (i < len) {
		size_t s = i;

		while (i < len && line[i] > ' ' && line[i] < 0x7f)
			i++;
		if (i == s || *n == CTL_MAX_WORDS)
			return false; /* an empty word: two blanks, a control */
		w[*n] = line + s;
		wl[(*n)++] = i - s;
		if (i < len && line[i++] != ' ')
			return false;
		if (i == len && line[i - 1] == ' ')
			return false;
	}
	return true;
}

static bool word_is(const char *w, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(w, want, len) == 0;
}

/* "NAME=VALUE": is @w that, with VALUE into @val (NUL-terminated)? */
static bool take_arg(const char *w, size_t len, const char *name, char *val,
		     size_t cap)
{
	size_t nl = strlen(name);

	if (len <= nl + 1 || memcmp(w, name, nl) != 0 || w[nl] != '=' ||
	    len - nl - 1 >= cap)
		return false;
	memcpy(val, w + nl + 1, len - nl - 1);
	val[len - nl - 1] = '\0';
	return true;
}

/* ticket guest=I [ttl=T] [watch], each at most once, in any order */
static bool parse_ticket(const char *w[], const size_t wl[], unsigned int n,
			 struct ctl_request *rq)
{
	bool have_guest = false, have_ttl = false;
	char val[16], *end;
	unsigned long g;

	rq->ttl_ms = WEB_TICKET_TTL_MS;
	rq->watch_only = false;
	for (unsigned int i = 1; i < n; i++) {
		if (!have_guest && take_arg(w[i], wl[i], "guest", val, sizeof(val))) {
			if (val[0] < '0' || val[0] > '9')
				return false;
			g = strtoul(val, &end, 10);
			if (*end || g > 65535)
				return false;
			rq->guest = (unsigned int)g;
			have_guest = true;
		} else if (!have_ttl &&
			   take_arg(w[i], wl[i], "ttl", val, sizeof(val))) {
			if (web_ticket_parse_ttl(val, &rq->ttl_ms) < 0)
				return false;
			have_ttl = true;
		} else if (!rq->watch_only && word_is(w[i], wl[i], "watch")) {
			rq->watch_only = true;
		} else {
			return false;
		}
	}
	return have_guest;
}

/**
 * ctl_parse() - one request line, without its '\n'
 * @line:	the line
 * @len:	its length
 * @rq:		the request, on success
 * @why:	for a refusal: a sentence for the client
 * @whylen:	size of @why
 *
 * Return: CTL_ERR_NONE, or why the line was refused
 */
enum ctl_error ctl_parse(const char *line, size_t len, struct ctl_request *rq,
			 char *why, size_t whylen)
{
	const char *w[CTL_MAX_WORDS];
	size_t wl[CTL_MAX_WORDS];
	unsigned int n;

	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0 || !split(line, len, w, wl, &n)) {
		snprintf(why, whylen, "a request is words of printable ASCII separated by single blanks; try \"help\"");
		return CTL_ERR_BAD;
	}
	if (word_is(w[0], wl[0], "status") && n == 1) {
		rq->cmd = CTL_CMD_STATUS;
	} else if (word_is(w[0], wl[0], "status") && n == 2 &&
		   word_is(w[1], wl[1], "json")) {
		rq->cmd = CTL_CMD_STATUS_JSON;
	} else if (word_is(w[0], wl[0], "version") && n == 1) {
		rq->cmd = CTL_CMD_VERSION;
	} else if (word_is(w[0], wl[0], "help") && n == 1) {
		rq->cmd = CTL_CMD_HELP;
	} else if (word_is(w[0], wl[0], "ticket")) {
		if (!parse_ticket(w, wl, n, rq)) {
			snprintf(why, whylen, "ticket guest=I [ttl=SECONDS, at most 10m] [watch]");
			return CTL_ERR_BAD;
		}
		rq->cmd = CTL_CMD_TICKET;
	} else if (word_is(w[0], wl[0], "status") ||
		   word_is(w[0], wl[0], "version") ||
		   word_is(w[0], wl[0], "help")) {
		snprintf(why, whylen, "%.*s: unexpected arguments; try \"help\"",
			 (int)wl[0], w[0]);
		return CTL_ERR_BAD;
	} else {
		snprintf(why, whylen, "unknown command \"%.*s\"; try \"help\"",
			 (int)(wl[0] > 32 ? 32 : wl[0]), w[0]);
		return CTL_ERR_UNKNOWN;
	}
	return CTL_ERR_NONE;
}

/** ctl_error_word() - an answer's status word */
const char *ctl_error_word(enum ctl_error err)
{
	switch (err) {
	case CTL_ERR_NONE:
		return "ok";
	case CTL_ERR_UNKNOWN:
		return "unknown-command";
	case CTL_ERR_BAD:
		return "bad-request";
	case CTL_ERR_TOO_LONG:
		return "line-too-long";
	case CTL_ERR_BUSY:
		return "busy";
	}
	return "error";
}

/**
 * ctl_answer() - append one framed answer to @out
 * @out:	the connection's output
 * @err:	CTL_ERR_NONE for "ok"
 * @body:	the body (a sentence and a newline for a refusal)
 * @len:	its length
 */
void ctl_answer(struct report_buf *out, enum ctl_error err, const char *body,
		size_t len)
{
	report_printf(out, CTL_PROTO_NAME " %s %zu\n", ctl_error_word(err), len);
	report_printf(out, "%.*s", (int)len, body);
}

/**
 * ctl_parse_header() - the client's side: an answer's header line,
 * without its '\n'
 * @line:	the line
 * @len:	its length
 * @status:	the status word ("ok", "busy", ...)
 * @status_len:	size of @status
 * @body_len:	the body's length
 *
 * Return: 0, or -1 when it is not an answer of this protocol version
 */
int ctl_parse_header(const char *line, size_t len, char *status,
		     size_t status_len, size_t *body_len)
{
	const size_t plen = strlen(CTL_PROTO_NAME);
	const char *sp;
	char num[24];
	size_t wl, nl;
	char *end;
	unsigned long long v;

	if (len <= plen + 1 || memcmp(line, CTL_PROTO_NAME " ", plen + 1) != 0)
		return -1;
	line += plen + 1;
	len -= plen + 1;
	sp = memchr(line, ' ', len);
	if (!sp || sp == line)
		return -1;
	wl = (size_t)(sp - line);
	nl = len - wl - 1;
	if (wl >= status_len || nl == 0 || nl >= sizeof(num))
		return -1;
	memcpy(status, line, wl);
	status[wl] = '\0';
	memcpy(num, sp + 1, nl);
	num[nl] = '\0';
	/* Decimal, as the daemon writes it: no sign, no leading zero. */
	if (num[0] < '0' || num[0] > '9' || (num[0] == '0' && nl > 1))
		return -1;
	v = strtoull(num, &end, 10);
	/* Every byte a digit: a NUL inside the line must not end the number. */
	if (end != num + nl || v > BODY_MAX)
		return -1;
	*body_len = (size_t)v;
	return 0;
}
