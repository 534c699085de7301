/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_origin.c - parse and match --web-origin and --web-frame-ancestors
 * (web_origin.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web_origin.h"

/* A DNS name or an IPv4 address: letters, digits, '-', '.' */
static bool host_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '-' || ch == '.';
}

/**
 * web_origin_add() - check @url and append it to @l
 * @l:		the list
 * @url:	"https://vmm.example.com" or "http://host:8080"
 * @err:	why not, on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err filled
 */
int web_origin_add(struct web_origins *l, const char *url, char *err,
		   size_t errlen)
{
	struct web_origin *o;
	size_t skip, i, host_len;
	const char *p;

	if (l->n == WEB_ORIGINS_MAX) {
		snprintf(err, errlen, "at most %u of them", WEB_ORIGINS_MAX);
		return -1;
	}
	if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else
		goto bad;
	p = url + skip;
	for (i = 0; host_char(p[i]); i++)
		;
	host_len = i;
	if (host_len == 0 || p[0] == '.' || p[0] == '-' ||
	    p[host_len - 1] == '.' || p[host_len - 1] == '-')
		goto bad;
	if (p[i] == ':') {
		char *end;
		unsigned long port;

		if (p[i + 1] < '1' || p[i + 1] > '9')
			goto bad;
		port = strtoul(p + i + 1, &end, 10);
		if (port > 65535 || end - (p + i + 1) > 5)
			goto bad;
		i = (size_t)(end - p);
	}
	if (p[i] != '\0' || skip + i >= WEB_ORIGIN_LEN)
		goto bad;
	o = &l->o[l->n++];
	for (size_t k = 0; k < skip + i; k++)
		o->origin[k] = (char)tolower((unsigned char)url[k]);
	o->origin[skip + i] = '\0';
	o->host_off = skip;
	return 0;
bad:
	snprintf(err, errlen, "'%.64s' is not an origin: scheme http or https, a host, an optional port, nothing else (https://vmm.example.com)", url);
	return -1;
}

static bool ieq(const char *p, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(p, want, len) == 0;
}

/** web_origins_host() - is the Host @p one that an origin of @l implies? */
bool web_origins_host(const struct web_origins *l, const char *p, size_t len)
{
	for (unsigned int i = 0; l && i < l->n; i++)
		if (ieq(p, len, l->o[i].origin + l->o[i].host_off))
			return true;
	return false;
}

/** web_origins_origin() - is the Origin @p one of @l? */
bool web_origins_origin(const struct web_origins *l, const char *p,
			size_t len)
{
	for (unsigned int i = 0; l && i < l->n; i++)
		if (ieq(p, len, l->o[i].origin))
			return true;
	return false;
}
