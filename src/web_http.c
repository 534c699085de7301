/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_http.c - parse an HTTP/1.x request head (see web_http.h). Nothing
 * here allocates or copies: the result points into the caller's bytes.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "web_http.h"

/* tchar() - a character of an HTTP token (RFC 9110 5.6.2) */
static bool tchar(uint8_t ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/** web_http_ieq() - is @a (@alen bytes) @b, ignoring ASCII case? */
bool web_http_ieq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

/* list_has() - does a comma-separated header value hold token @want? */
static bool list_has(const char *v, size_t len, const char *want)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && web_http_ieq(v + s, e - s, want))
			return true;
	}
	return false;
}

/* header() - note what one header line says, if it matters here */
static void header(struct web_request *rq, const char *name, size_t nlen,
		   const char *v, size_t vlen)
{
	if (web_http_ieq(name, nlen, "Host")) {
		rq->host = v;
		rq->host_len = vlen;
		rq->n_host++;
	} else if (web_http_ieq(name, nlen, "Origin")) {
		rq->origin = v;
		rq->origin_len = vlen;
		rq->n_origin++;
	} else if (web_http_ieq(name, nlen, "Sec-WebSocket-Key")) {
		rq->key = v;
		rq->key_len = vlen;
		rq->n_key++;
	} else if (web_http_ieq(name, nlen, "Sec-WebSocket-Version")) {
		rq->version = v;
		rq->version_len = vlen;
		rq->n_version++;
	} else if (web_http_ieq(name, nlen, "Upgrade")) {
		rq->upgrade_websocket |= list_has(v, vlen, "websocket");
	} else if (web_http_ieq(name, nlen, "Connection")) {
		rq->connection_upgrade |= list_has(v, vlen, "upgrade");
		rq->connection_close |= list_has(v, vlen, "close");
	} else if (web_http_ieq(name, nlen, "Transfer-Encoding")) {
		rq->has_body = true;
	} else if (web_http_ieq(name, nlen, "Content-Length")) {
		/* Only an explicit zero: a body would have to be skipped,
		 * and a mistake there desynchronises the connection. */
		if (!(vlen == 1 && v[0] == '0'))
			rq->has_body = true;
	}
}

/* parse_line() - one header line "name: value"; false if malformed */
static bool parse_line(struct web_request *rq, const char *p, size_t len)
{
	size_t nlen = 0, vs, ve;

	while (nlen < len && tchar((uint8_t)p[nlen]))
		nlen++;
	/* No space before the colon, no folded continuation lines. */
	if (nlen == 0 || nlen == len || p[nlen] != ':')
		return false;
	vs = nlen + 1;
	while (vs < len && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	ve = len;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	for (size_t i = vs; i < ve; i++) {
		uint8_t ch = (uint8_t)p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	header(rq, p, nlen, p + vs, ve - vs);
	return true;
}

/* parse_request_line() - "METHOD SP target SP HTTP/1.x" */
static bool parse_request_line(struct web_request *rq, const char *p,
			       size_t len)
{
	size_t i = 0, ts;

	while (i < len && tchar((uint8_t)p[i]))
		i++;
	if (i == 0 || i == len || p[i] != ' ')
		return false;
	rq->method = p;
	rq->method_len = i;
	ts = ++i;
	while (i < len && (uint8_t)p[i] > 0x20 && (uint8_t)p[i] < 0x7f)
		i++;
	if (i == ts || i == len || p[i] != ' ' || p[ts] != '/')
		return false;
	rq->target = p + ts;
	rq->target_len = i - ts;
	i++;
	if (len - i != 8 || memcmp(p + i, "HTTP/1.", 7) != 0 ||
	    (p[i + 7] != '0' && p[i + 7] != '1'))
		return false;
	rq->minor = p[i + 7] - '0';
	return true;
}

/**
 * web_http_parse() - parse a request head
 * @rq:		filled with what was found; pointers into @p
 * @p:		the head, from the request line to the blank line's CRLF
 * @len:	its length
 *
 * Lines end in CRLF only: a bare CR or LF, a folded line, a space before
 * a header's colon or a control character in a value makes the request
 * malformed.
 *
 * Return: false if the head is malformed
 */
bool web_http_parse(struct web_request *rq, const char *p, size_t len)
{
	size_t i = 0;
	bool first = true;

	memset(rq, 0, sizeof(*rq));
	/* @len ends with the blank line's CRLF; the loop stops before it. */
	while (i + 2 < len) {
		const char *cr = memchr(p + i, '\r', len - i);
		size_t ll;

		if (!cr || (size_t)(cr - p) + 1 >= len || cr[1] != '\n')
			return false;
		ll = (size_t)(cr - (p + i));
		if (memchr(p + i, '\n', ll))
			return false;
		if (first ? !parse_request_line(rq, p + i, ll)
			  : !parse_line(rq, p + i, ll))
			return false;
		first = false;
		i += ll + 2;
	}
	return !first;
}

/**
 * web_http_reason() - the reason phrase of a status code the daemon sends
 * @status:	an HTTP status code
 *
 * Return: its phrase; "Internal Server Error" for a code not listed
 */
const char *web_http_reason(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 426:
		return "Upgrade Required";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}
