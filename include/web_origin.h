/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_origin.h - public origins the web console answers under besides its
 * loopback address (--web-origin: a reverse proxy's), and the pages that
 * may frame it (--web-frame-ancestors: a management tool's).
 *
 * An origin is exactly scheme://host[:port], scheme http or https, host
 * letters, digits, '-' and '.', an optional port 1..65535, nothing else
 * (no path, no user, no query): what a browser sends as Origin, so that
 * a comparison is a comparison of strings.
 */
#ifndef VDC_WEB_ORIGIN_H
#define VDC_WEB_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_ORIGINS_MAX 8u
#define WEB_ORIGIN_LEN	128u

struct web_origin {
	char origin[WEB_ORIGIN_LEN]; /* "https://host[:port]", lower case */
	size_t host_off; /* where "host[:port]" (the Host it implies) starts */
};

struct web_origins {
	unsigned int n;
	struct web_origin o[WEB_ORIGINS_MAX];
};

int web_origin_add(struct web_origins *l, const char *url, char *err,
		   size_t errlen);
bool web_origins_host(const struct web_origins *l, const char *p, size_t len);
bool web_origins_origin(const struct web_origins *l, const char *p,
			size_t len);

#endif
