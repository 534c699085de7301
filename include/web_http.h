/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_http.h - one HTTP/1.x request head, parsed as far as the web console
 * needs: the request line and the few headers that decide how to answer.
 *
 * The head comes from the network, so the parser is strict (RFC 9112):
 * CRLF line ends only, no folded lines, no space before a header's colon,
 * no control characters in values. Headers that must appear once are
 * counted, so the caller can refuse duplicates.
 */
#ifndef VDC_WEB_HTTP_H
#define VDC_WEB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct web_request {
	const char *method, *target;
	size_t method_len, target_len;
	int minor; /* HTTP/1.minor */
	const char *host, *origin, *key, *version;
	size_t host_len, origin_len, key_len, version_len;
	unsigned int n_host, n_origin, n_key, n_version;
	bool upgrade_websocket; /* Upgrade lists "websocket" */
	bool connection_upgrade, connection_close; /* Connection lists them */
	bool has_body; /* Transfer-Encoding, or a Content-Length but 0 */
};

bool web_http_parse(struct web_request *rq, const char *p, size_t len);
bool web_http_ieq(const char *a, size_t alen, const char *b);
const char *web_http_reason(int status);

#endif
