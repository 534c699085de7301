/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * metrics_http.h - the metrics listener's HTTP, without I/O: one request
 * head in, which answer it gets out, and the answer's bytes.
 *
 * GET (or HEAD) /metrics with a Host naming this listener
 * (127.0.0.1:PORT or localhost:PORT) gets the exposition; any other path
 * 404, any other method 405, a malformed head or a foreign Host 400. One
 * request per connection: every answer closes it.
 */
#ifndef VDC_METRICS_HTTP_H
#define VDC_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "status_report.h"

#define METRICS_HEAD_MAX 8192u /* a request head, at most */

struct metrics_route {
	int code; /* 200, 400, 403, 404, 405, 408, 431, 503 */
	bool head_only; /* HEAD: no body */
};

ssize_t metrics_http_head_end(const char *buf, size_t len);
struct metrics_route metrics_http_route(const char *head, size_t len,
					uint16_t port);
void metrics_http_respond(struct report_buf *out, struct metrics_route r,
			  const struct report_buf *body);

#endif
