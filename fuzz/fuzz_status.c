/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_status.c - libFuzzer target: what other local processes send the
 * supervisor's status doors (src/ctl_proto.c, src/metrics_http.c), what a
 * daemon (or an impostor at its path) answers the status command, and
 * the formats that carry strings from outside (src/status_report.c).
 *
 * Input: one mode byte, then the rest.
 *   mode % 4 == 0	control requests: the bytes are fed as the server
 *			buffers them (at most CTL_LINE_MAX without a newline)
 *			and every line is parsed and answered
 *   mode % 4 == 1	a metrics request head, routed and answered
 *   mode % 4 == 2	an answer header, as the status command reads it
 *   mode % 4 == 3	guest entries: the bytes are the counters, paths and
 *			addresses of up to three guests; text, JSON and
 *			metrics are made of them
 *
 * Findings, besides ASan and UBSan: an answer whose header does not read
 * back with its own length; a metrics answer whose Content-Length is not
 * its body; a code other than the documented ones; a header accepted with
 * a length it does not say; text with a byte that is not printable ASCII
 * or a line end; JSON with a raw control byte, invalid UTF-8 or brackets
 * that do not balance outside strings; metrics lines with a control byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"
#include "fuzz.h"
#include "metrics_http.h"
#include "status_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_answer(const struct report_buf *out, size_t body_len)
{
	const char *nl = memchr(out->p, '\n', out->len);
	char status[32];
	size_t len;

	if (!nl || ctl_parse_header(out->p, (size_t)(nl - out->p), status,
				    sizeof(status), &len) < 0)
		fuzz_fail("an answer's header does not read back");
	if (len != body_len || (size_t)(nl - out->p) + 1 + len != out->len)
		fuzz_fail("an answer's length is %zu, its body %zu", len,
			  body_len);
}

static void control(const uint8_t *p, size_t n)
{
	char buf[CTL_LINE_MAX];
	size_t have = 0;

	while (n || have) {
		size_t take = n < sizeof(buf) - have ? n : sizeof(buf) - have;
		struct report_buf out = {0};
		struct ctl_request rq;
		char why[160];
		ssize_t end;
		enum ctl_error e;

		memcpy(buf + have, p, take);
		have += take;
		p += take;
		n -= take;
		end = ctl_line_end(buf, have);
		if (end < 0) {
			if (have < sizeof(buf))
				return; /* the rest of the line never came */
			e = CTL_ERR_TOO_LONG;
			snprintf(why, sizeof(why), "too long");
			have = 0;
		} else {
			e = ctl_parse(buf, (size_t)end, &rq, why, sizeof(why));
			if (e == CTL_ERR_NONE)
				snprintf(why, sizeof(why), "command %d", rq.cmd);
			have -= (size_t)end + 1;
			memmove(buf, buf + end + 1, have);
		}
		ctl_answer(&out, e, why, strlen(why));
		check_answer(&out, strlen(why));
		report_free(&out);
		if (e == CTL_ERR_TOO_LONG)
			return;
	}
}

static void metrics(const uint8_t *p, size_t n)
{
	struct report_buf body = {0}, out = {0};
	struct metrics_route r;
	ssize_t end = metrics_http_head_end((const char *)p, n);
	const char *cl, *b;
	unsigned long long len;

	if (end < 0)
		return;
	r = metrics_http_route((const char *)p, (size_t)end, 9464);
	if (r.code != 200 && r.code != 400 && r.code != 404 && r.code != 405)
		fuzz_fail("metrics answered %d", r.code);
	report_printf(&body, "# a body\n");
	metrics_http_respond(&out, r, &body);
	cl = strstr(out.p, "Content-Length: ");
	b = strstr(out.p, "\r\n\r\n");
	if (!cl || !b || sscanf(cl + 16, "%llu", &len) != 1 ||
	    (!r.head_only && out.p + out.len - (b + 4) != (long)len))
		fuzz_fail("a metrics answer's length is not its body's");
	report_free(&body);
	report_free(&out);
}

static void header(const uint8_t *p, size_t n)
{
	char status[32], num[32];
	size_t len;

	if (ctl_parse_header((const char *)p, n, status, sizeof(status),
			     &len) < 0)
		return;
	snprintf(num, sizeof(num), " %zu", len);
	if (n < strlen(num) ||
	    memcmp(p + n - strlen(num), num, strlen(num)) != 0)
		fuzz_fail("a header accepted with a length it does not say");
}

static void printable(const struct report_buf *b, const char *what)
{
	for (size_t i = 0; i < b->len; i++) {
		unsigned char ch = (unsigned char)b->p[i];

		if ((ch < 0x20 && ch != '\n') || ch == 0x7f)
			fuzz_fail("%s: byte %#x at %zu", what, ch, i);
	}
}

/* Valid UTF-8, and brackets balanced outside strings. */
static void json_shape(const struct report_buf *b)
{
	int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < b->len; i++) {
		unsigned char ch = (unsigned char)b->p[i];
		size_t extra = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : ch >= 0xc0 ? 1 : 0;

		if (ch >= 0x80 && (ch < 0xc2 || ch > 0xf4))
			fuzz_fail("JSON: a stray byte %#x at %zu", ch, i);
		for (size_t k = 1; k <= extra; k++)
			if (i + k >= b->len ||
			    ((unsigned char)b->p[i + k] & 0xc0) != 0x80)
				fuzz_fail("JSON: a cut UTF-8 sequence at %zu", i);
		i += extra;
		if (in_string && ch == '\\')
			i++;
		else if (ch == '"')
			in_string = !in_string;
		else if (!in_string && (ch == '{' || ch == '['))
			depth++;
		else if (!in_string && (ch == '}' || ch == ']'))
			depth--;
		if (depth < 0)
			fuzz_fail("JSON: closed more than it opened at %zu", i);
	}
	if (depth || in_string)
		fuzz_fail("JSON: unbalanced at the end");
}

static void reports(const uint8_t *p, size_t n)
{
	static struct status_guest g[3];
	struct status_snapshot s = {.version = "0.1.0", .pid = 1, .now = 2,
				    .guest = g};
	struct report_buf text = {0}, json = {0}, prom = {0};

	memset(g, 0, sizeof(g));
	for (s.guests = 0; s.guests < 3 && n; s.guests++) {
		size_t take = n < sizeof(g[0].d) ? n : sizeof(g[0].d);

		g[s.guests].ok = p[0] & 1;
		memcpy(&g[s.guests].d, p, take);
		p += take;
		n -= take;
	}
	/* What guest_stats_read() guarantees a reader. */
	for (unsigned int i = 0; i < s.guests; i++) {
		struct guest_stats_data *d = &g[i].d;

		d->version[sizeof(d->version) - 1] = '\0';
		d->log_path[sizeof(d->log_path) - 1] = '\0';
		for (unsigned int c = 0; c < GUEST_STATS_CLIENTS; c++)
			d->client[c].addr[GUEST_STATS_ADDR_LEN - 1] = '\0';
	}
	status_report_text(&text, &s);
	status_report_json(&json, &s);
	status_report_metrics(&prom, &s);
	if (text.failed || json.failed || prom.failed)
		fuzz_fail("out of memory for a report");
	printable(&text, "text");
	for (size_t i = 0; i < text.len; i++)
		if ((unsigned char)text.p[i] >= 0x7f)
			fuzz_fail("text: byte %#x", (unsigned char)text.p[i]);
	printable(&json, "JSON");
	json_shape(&json);
	printable(&prom, "metrics");
	report_free(&text);
	report_free(&json);
	report_free(&prom);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		control(data + 1, size - 1);
		break;
	case 1:
		metrics(data + 1, size - 1);
		break;
	case 2:
		header(data + 1, size - 1);
		break;
	default:
		reports(data + 1, size - 1);
	}
	return 0;
}
