/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * metrics_http.c - route a metrics request and frame its answer
 * (metrics_http.h). The head is parsed by web_http.c, strictly, as the
 * web console's is; the Host check is what keeps a web page a browser
 * visits from reading the metrics through DNS rebinding.
 */
#include <stdio.h>
#include <string.h>

#include "metrics_http.h"
#include "web_http.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/**
 * metrics_http_head_end() - the length of the request head in @buf, up to
 * and with its blank line
 *
 * Return: that length, or -1 while the head is incomplete
 */
ssize_t metrics_http_head_end(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);

	return end ? end - buf + 4 : -1;
}

/* Is @p (@len bytes) this listener's own address? */
static bool host_ok(const char *p, size_t len, uint16_t port)
{
	static const char *const names[] = {"127.0.0.1", "localhost"};
	char want[32];

	for (unsigned int i = 0; i < 2; i++) {
		snprintf(want, sizeof(want), "%s:%u", names[i], (unsigned int)port);
		if (web_http_ieq(p, len, want))
			return true;
	}
	return false;
}

/**
 * metrics_http_route() - which answer a complete request head gets
 * @head:	from the request line to the blank line, inclusive
 * @len:	its length
 * @port:	the listener's port (for the Host check)
 */
struct metrics_route metrics_http_route(const char *head, size_t len,
					uint16_t port)
{
	struct metrics_route r = {.code = 400};
	struct web_request rq;
	bool get, head_method;

	if (!web_http_parse(&rq, head, len) || rq.has_body || rq.n_host != 1 ||
	    !host_ok(rq.host, rq.host_len, port))
		return r;
	get = rq.method_len == 3 && memcmp(rq.method, "GET", 3) == 0;
	head_method = rq.method_len == 4 && memcmp(rq.method, "HEAD", 4) == 0;
	if (!get && !head_method) {
		r.code = 405;
		return r;
	}
	r.head_only = head_method;
	r.code = rq.target_len == 8 && memcmp(rq.target, "/metrics", 8) == 0
			 ? 200
			 : 404;
	return r;
}

/**
 * metrics_http_respond() - the whole answer for @r
 * @out:	where it goes
 * @r:		from metrics_http_route(), or a code of the caller's
 * @body:	the exposition, for 200
 */
void metrics_http_respond(struct report_buf *out, struct metrics_route r,
			  const struct report_buf *body)
{
	char text[64];
	const char *p = text;
	size_t len;

	if (r.code == 200) {
		p = body->p ? body->p : "";
		len = body->len;
	} else {
		len = (size_t)snprintf(text, sizeof(text), "%d %s\n", r.code,
				       web_http_reason(r.code));
	}
	report_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
		      r.code, web_http_reason(r.code),
		      r.code == 200 ? CONTENT_TYPE : "text/plain; charset=utf-8",
		      len, r.code == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!r.head_only && len)
		report_printf(out, "%.*s", (int)len, p);
}
