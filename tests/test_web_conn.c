/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web_conn.c - the web console's connection state machine, driven
 * as a socket would drive it, both in one chunk and byte by byte: the
 * page and its headers, every way a WebSocket handshake can be refused,
 * the frames RFC 6455 allows and those it does not, and the mutual
 * proof (HMAC-SHA-256 over both nonces) that must come before any console
 * byte passes either way, without the token ever crossing the wire.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "log.h"
#include "sha256.h"
#include "suites.h"
#include "web_assets.h"
#include "web_conn.h"
#include "web_http.h"

#define PORT	    8080
#define TOKEN	    "0123456789abcdef0123456789abcdef"
#define GOOD_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define GOOD_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define OUT_BUF	    (1 << 20)

/* What the callbacks saw. */
struct events {
	unsigned int authenticated, proofs, closed, resizes;
	unsigned int cols, rows, close_code;
	uint8_t input[65536 * 2];
	size_t input_len;
};

static struct web_token token = {.text = TOKEN, .len = sizeof(TOKEN) - 1};
static struct events ev;
static struct web_conn *conn;
static uint8_t *out; /* everything the connection wrote */
static size_t out_len;
static bool bytewise; /* feed one byte at a time */
static bool greet_on_auth; /* on_auth sends console output at once */
static bool hold_proof; /* on_proof leaves the check to the test */
static uint8_t cnonce[WEB_NONCE_LEN]; /* the page's, in these tests */

static void on_auth(void *o)
{
	(void)o;
	ev.authenticated++;
	if (greet_on_auth)
		ck_assert_uint_eq(web_conn_send_output(conn,
						       (const uint8_t
								*)"login: ",
						       7),
				  7);
}

static void on_proof(void *o)
{
	(void)o;
	ev.proofs++;
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_CHECKING);
	ck_assert_uint_eq(web_conn_read_room(conn), 0);
	if (!hold_proof)
		web_conn_check(conn);
}

static void on_input(void *o, const uint8_t *p, size_t n)
{
	(void)o;
	ck_assert_msg(ev.authenticated, "input before the token");
	ck_assert_uint_le(ev.input_len + n, sizeof(ev.input));
	memcpy(ev.input + ev.input_len, p, n);
	ev.input_len += n;
}

static void on_resize(void *o, unsigned int cols, unsigned int rows)
{
	(void)o;
	ck_assert_msg(ev.authenticated, "resize before the token");
	ev.resizes++;
	ev.cols = cols;
	ev.rows = rows;
}

static void on_closed(void *o, unsigned int code, const char *reason)
{
	(void)o;
	(void)reason;
	ev.closed++;
	ev.close_code = code;
}

static const struct web_conn_ops ops = {
	.proof = on_proof,
	.authenticated = on_auth,
	.input = on_input,
	.resize = on_resize,
	.closed = on_closed,
};

static void setup(void)
{
	struct web_conn_config cfg = {.port = PORT,
				      .token = &token,
				      .peer = "127.0.0.1:40000"};

	for (unsigned int i = 0; i < WEB_NONCE_LEN; i++) {
		cfg.nonce[i] = (uint8_t)(i + 1); /* the server's */
		cnonce[i] = (uint8_t)(0xa0 + i);
	}

	/* Refusals are logged as warnings; here they are the point. */
	log_set_level(LOG_LEVEL_ERROR);
	memset(&ev, 0, sizeof(ev));
	bytewise = false;
	greet_on_auth = false;
	hold_proof = false;
	conn = web_conn_new(&cfg, &ops, NULL);
	ck_assert_ptr_nonnull(conn);
	out = malloc(OUT_BUF);
	out_len = 0;
}

static void teardown(void)
{
	web_conn_free(conn);
	free(out);
}

/* drain() - write out everything queued, as a fast socket would */
static void drain(void)
{
	struct iovec iov[2];
	unsigned int n;

	while ((n = web_conn_out_peek(conn, iov)) != 0) {
		size_t total = 0;

		for (unsigned int i = 0; i < n; i++) {
			ck_assert_uint_le(out_len + iov[i].iov_len, OUT_BUF);
			memcpy(out + out_len, iov[i].iov_base, iov[i].iov_len);
			out_len += iov[i].iov_len;
			total += iov[i].iov_len;
		}
		/* Whatever happens, the token never crosses the wire. */
		ck_assert_ptr_null(memmem(out, out_len, TOKEN, strlen(TOKEN)));
		web_conn_out_consume(conn, total);
	}
}

/* feed() - give the connection @n bytes, draining as a socket would */
static void feed(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		size_t chunk = bytewise ? 1 : n, took;

		if (web_conn_state(conn) != WEB_STATE_DONE &&
		    web_conn_read_room(conn) == 0) {
			drain();
			if (web_conn_read_room(conn) == 0)
				break; /* the connection waits for its caller */
		}
		if (chunk > web_conn_read_room(conn) &&
		    web_conn_state(conn) != WEB_STATE_DONE)
			chunk = web_conn_read_room(conn);
		took = web_conn_feed(conn, b, chunk);
		ck_assert_uint_eq(took, chunk);
		b += took;
		n -= took;
		drain();
	}
	drain();
}

static void feed_str(const char *s)
{
	feed(s, strlen(s));
}

/* out_str() - what was written so far, as a string, and forget it */
static char *out_str(void)
{
	static char s[OUT_BUF + 1];

	memcpy(s, out, out_len);
	s[out_len] = '\0';
	out_len = 0;
	return s;
}

static void expect_status(const char *resp, int status)
{
	char want[32];

	snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
	ck_assert_msg(strncmp(resp, want, strlen(want)) == 0,
		      "want %d, got '%.80s'", status, resp);
}

#define HS_HOST	  "Host: 127.0.0.1:8080\r\n"
#define HS_ORIGIN "Origin: http://127.0.0.1:8080\r\n"
#define HS_UPGRADE                                                             \
	"Upgrade: websocket\r\n"                                               \
	"Connection: keep-alive, Upgrade\r\n"
#define HS_KEY	   "Sec-WebSocket-Key: " GOOD_KEY "\r\n"
#define HS_VERSION "Sec-WebSocket-Version: 13\r\n"
#define HANDSHAKE                                                              \
	"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY HS_VERSION  \
	"\r\n"

/* ---- client frames ---- */

static size_t frame(uint8_t *buf, uint8_t b0, bool masked, const void *p,
		    size_t n)
{
	static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t h = 2;

	buf[0] = b0;
	if (n < 126) {
		buf[1] = (uint8_t)n;
	} else if (n <= 0xffff) {
		buf[1] = 126;
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		h = 4;
	} else {
		buf[1] = 127;
		for (int i = 0; i < 8; i++)
			buf[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (masked) {
		buf[1] |= 0x80;
		memcpy(buf + h, mask, 4);
		h += 4;
	}
	for (size_t i = 0; i < n; i++)
		buf[h + i] = (uint8_t)(((const uint8_t *)p)[i] ^
				       (masked ? mask[i & 3] : 0));
	return h + n;
}

static void send_frame(uint8_t b0, const void *p, size_t n)
{
	uint8_t *buf = malloc(n + 14);

	feed(buf, frame(buf, b0, true, p, n));
	free(buf);
}

static void send_text(const char *s)
{
	send_frame(0x81, s, strlen(s));
}

/* A server frame parsed from out[]. */
struct sframe {
	uint8_t opcode;
	bool fin;
	size_t len;
	const uint8_t *payload;
};

/* next_frame() - parse the server frame at *@pos; false at the end */
static bool next_frame(size_t *pos, struct sframe *f)
{
	size_t p = *pos, h = 2;
	uint64_t len;

	if (p >= out_len)
		return false;
	ck_assert_uint_ge(out_len - p, 2);
	ck_assert_msg((out[p] & 0x70) == 0, "server set RSV bits");
	ck_assert_msg((out[p + 1] & 0x80) == 0, "server frame masked");
	f->opcode = out[p] & 0x0f;
	f->fin = out[p] & 0x80;
	len = out[p + 1] & 0x7f;
	if (len == 126) {
		len = (uint64_t)out[p + 2] << 8 | out[p + 3];
		h = 4;
	} else if (len == 127) {
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | out[p + 2 + i];
		h = 10;
	}
	ck_assert_uint_le(p + h + len, out_len);
	f->len = (size_t)len;
	f->payload = out + p + h;
	*pos = p + h + (size_t)len;
	return true;
}

/* expect_close() - the only (or last) thing written is a close @code */
static void expect_close(unsigned int code)
{
	struct sframe f = {0};
	size_t pos = 0;
	bool got = false;

	while (next_frame(&pos, &f))
		if (f.opcode == 0x8)
			got = true;
	ck_assert_msg(got, "no close frame written");
	ck_assert_uint_eq(f.opcode, 0x8);
	ck_assert_uint_ge(f.len, 2);
	ck_assert_uint_eq((unsigned int)f.payload[0] << 8 | f.payload[1], code);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_DONE);
	ck_assert(web_conn_finished(conn));
	out_len = 0;
}

/* expect_word() - the next server frame is the text "@word <N>", N the
 * base64url of @n bytes, decoded into @v; that frame is consumed */
static void expect_word(size_t *pos, const char *word, uint8_t *v, size_t n)
{
	struct sframe f;
	size_t wl = strlen(word);

	ck_assert_msg(next_frame(pos, &f), "no '%s' message", word);
	ck_assert_uint_eq(f.opcode, 0x1);
	ck_assert_uint_eq(f.len, wl + 1 + BASE64_URL_LEN(n));
	ck_assert(memcmp(f.payload, word, wl) == 0 && f.payload[wl] == ' ');
	ck_assert_int_eq(base64_decode(BASE64_URL,
				       (const char *)f.payload + wl + 1,
				       f.len - wl - 1, v, n),
			 (ssize_t)n);
}

/* the proof @label | sn | cn under @key, as the page computes it */
static void proof_of(const char *key, const char *label, const uint8_t *sn,
		     const uint8_t *cn, uint8_t mac[SHA256_DIGEST_LEN])
{
	uint8_t msg[16 + 2 * WEB_NONCE_LEN];

	ck_assert_uint_eq(strlen(label), 16);
	memcpy(msg, label, 16);
	memcpy(msg + 16, sn, WEB_NONCE_LEN);
	memcpy(msg + 16 + WEB_NONCE_LEN, cn, WEB_NONCE_LEN);
	hmac_sha256(key, strlen(key), msg, sizeof(msg), mac);
}

/* word_frame() - a masked text frame "@word <base64url of @v>" */
static size_t word_frame(uint8_t *buf, const char *word, const uint8_t *v,
			 size_t n)
{
	char msg[128];
	size_t wl = strlen(word);

	memcpy(msg, word, wl);
	msg[wl] = ' ';
	wl += 1 + base64_encode(BASE64_URL, v, n, msg + wl + 1,
				sizeof(msg) - wl - 1);
	return frame(buf, 0x81, true, msg, wl);
}

static uint8_t snonce[WEB_NONCE_LEN]; /* the server's, as the page saw it */

/* open_ws() - a good handshake; returns with the 101 and the hello
 * consumed, the server's nonce in snonce[] */
static void open_ws(void)
{
	const uint8_t *end;
	size_t pos;
	char *r;

	feed_str(HANDSHAKE);
	end = memmem(out, out_len, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(end);
	pos = (size_t)(end - out) + 4;
	expect_word(&pos, "hello", snonce, sizeof(snonce));
	ck_assert_uint_eq(pos, out_len);
	for (unsigned int i = 0; i < WEB_NONCE_LEN; i++)
		ck_assert_uint_eq(snonce[i], i + 1);
	r = out_str();
	expect_status(r, 101);
	ck_assert_ptr_nonnull(
		strstr(r, "Sec-WebSocket-Accept: " GOOD_ACCEPT "\r\n"));
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_AUTH);
}

/* client_nonce() - send the page's nonce; the server's proof is checked
 * as the page checks it, and consumed */
static void client_nonce(void)
{
	uint8_t buf[128], got[SHA256_DIGEST_LEN], want[SHA256_DIGEST_LEN];
	size_t pos = 0;

	feed(buf, word_frame(buf, "client", cnonce, sizeof(cnonce)));
	expect_word(&pos, "server", got, sizeof(got));
	ck_assert_uint_eq(pos, out_len);
	out_len = 0;
	proof_of(TOKEN, WEB_PROOF_SERVER, snonce, cnonce, want);
	ck_assert_mem_eq(got, want, sizeof(want));
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_PROOF);
}

/* send_proof() - the page's proof under @key */
static void send_proof(const char *key)
{
	uint8_t buf[128], mac[SHA256_DIGEST_LEN];

	proof_of(key, WEB_PROOF_CLIENT, snonce, cnonce, mac);
	feed(buf, word_frame(buf, "proof", mac, sizeof(mac)));
}

/* login() - handshake and the right proof; "ok" consumed */
static void login(void)
{
	struct sframe f;
	size_t pos = 0;

	open_ws();
	client_nonce();
	send_proof(TOKEN);
	ck_assert_uint_eq(ev.proofs, 1);
	ck_assert_uint_eq(ev.authenticated, 1);
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0x1);
	ck_assert_uint_eq(f.len, 2);
	ck_assert(memcmp(f.payload, "ok", 2) == 0);
	ck_assert_uint_eq(pos, out_len);
	out_len = 0;
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_OPEN);
}

/* ---- HTTP ---- */

START_TEST(test_page_served_with_security_headers)
{
	const struct web_asset *a = web_asset_find("/", 1);
	char *r;

	bytewise = _i;
	feed_str("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	r = out_str();
	expect_status(r, 200);
	ck_assert_ptr_nonnull(
		strstr(r, "Content-Type: text/html; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(
		r,
		"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';"));
	ck_assert_ptr_nonnull(strstr(r, "frame-ancestors 'none'"));
	ck_assert_ptr_null(strstr(r, "unsafe"));
	ck_assert_ptr_nonnull(strstr(r, "X-Frame-Options: DENY\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "X-Content-Type-Options: nosniff\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "Referrer-Policy: no-referrer\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "Cache-Control: no-store\r\n"));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_gt(web_asset_len(a), 0);
	r = strstr(r, "\r\n\r\n") + 4;
	ck_assert_uint_eq(strlen(r), web_asset_len(a));
	ck_assert(memcmp(r, a->data, web_asset_len(a)) == 0);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_HTTP);
}
END_TEST

/* Every asset, pipelined on one connection, each with its type. */
START_TEST(test_assets_pipelined_with_content_types)
{
	char req[8192] = "", *r;
	size_t off = 0;

	bytewise = _i;
	for (size_t i = 0; i < web_assets_count; i++)
		off += (size_t)
			snprintf(req + off, sizeof(req) - off,
				 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
				 web_assets[i].path);
	feed_str(req);
	r = out_str();
	for (size_t i = 0; i < web_assets_count; i++) {
		char ct[128], len[64];
		const struct web_asset *a = &web_assets[i];

		expect_status(r, 200);
		snprintf(ct, sizeof(ct), "Content-Type: %s\r\n",
			 a->content_type);
		snprintf(len, sizeof(len), "Content-Length: %zu\r\n",
			 web_asset_len(a));
		ck_assert_ptr_nonnull(strstr(r, ct));
		ck_assert_ptr_nonnull(strstr(r, len));
		ck_assert_ptr_nonnull(
			strstr(r, "X-Content-Type-Options: nosniff"));
		r = strstr(r, "\r\n\r\n") + 4;
		ck_assert(memcmp(r, a->data, web_asset_len(a)) == 0);
		r += web_asset_len(a);
	}
	ck_assert_str_eq(r, "");
	ck_assert(strstr(web_assets[1].content_type, "javascript"));
}
END_TEST

START_TEST(test_not_found_keeps_connection)
{
	char *r;

	bytewise = _i;
	feed_str(
		"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
		"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n");
	r = out_str();
	expect_status(r, 404);
	r = strstr(r, "404 Not Found\n") + 14;
	expect_status(r, 200);
	/* HEAD: the headers alone, then the connection ends as asked. */
	ck_assert_ptr_nonnull(strstr(r, "Connection: close\r\n\r\n"));
	ck_assert_str_eq(strstr(r, "\r\n\r\n"), "\r\n\r\n");
	ck_assert(web_conn_finished(conn));
}
END_TEST

static void expect_http_error(const char *req, int status)
{
	char *r;

	feed_str(req);
	r = out_str();
	expect_status(r, status);
	ck_assert_ptr_nonnull(strstr(r, "Connection: close\r\n"));
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_DONE);
	ck_assert(web_conn_finished(conn));
	ck_assert_uint_eq(ev.closed + ev.authenticated + ev.proofs, 0);
}

START_TEST(test_post_is_405)
{
	bytewise = _i;
	expect_http_error(
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 0\r\n\r\n",
		405);
}
END_TEST

START_TEST(test_request_with_body_is_400)
{
	bytewise = _i;
	expect_http_error(
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 5\r\n\r\nhello",
		400);
}
END_TEST

START_TEST(test_malformed_requests_are_400)
{
	static const char *const bad[] = {
		"GET /\r\n\r\n",
		"GET / HTTP/1.1\nHost: 127.0.0.1:8080\n\n\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: 127.0.0.1:8080\r\n\r\n",
		"GET  / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nHost: 127.0.0.1:8080\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : 127.0.0.1:8080\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX: a\x01z\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		teardown();
		setup();
		expect_http_error(bad[i], 400);
	}
}
END_TEST

START_TEST(test_oversized_head_is_431)
{
	char *req = malloc(WEB_HEAD_MAX + 100);

	bytewise = _i;
	strcpy(req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Pad: ");
	memset(req + strlen(req), 'a', WEB_HEAD_MAX);
	strcpy(req + WEB_HEAD_MAX, "\r\n\r\n");
	expect_http_error(req, 431);
	free(req);
}
END_TEST

/* Exactly WEB_HEAD_MAX bytes with the blank line is still fine. */
START_TEST(test_head_of_exactly_the_limit_accepted)
{
	char *req = malloc(WEB_HEAD_MAX + 1);
	size_t n;

	strcpy(req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Pad: ");
	n = strlen(req);
	memset(req + n, 'a', WEB_HEAD_MAX - n - 4);
	strcpy(req + WEB_HEAD_MAX - 4, "\r\n\r\n");
	feed_str(req);
	expect_status(out_str(), 200);
	free(req);
}
END_TEST

/* DNS rebinding: the name resolves to us, the Host header gives it away. */
START_TEST(test_foreign_host_is_403_for_every_path)
{
	static const char *const hosts[] = {
		"evil.example:8080",
		"127.0.0.1:8081",
		"127.0.0.1",
		"127.0.0.2:8080",
		"localhost.evil.example:8080",
		"[::1]:8080",
		"127.0.0.1:8080 x",
	};
	char req[256];

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		teardown();
		setup();
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n",
			 hosts[i]);
		expect_http_error(req, 403);
		teardown();
		setup();
		snprintf(req, sizeof(req),
			 "GET /ws HTTP/1.1\r\nHost: %s\r\n" HS_ORIGIN HS_UPGRADE
				 HS_KEY HS_VERSION "\r\n",
			 hosts[i]);
		expect_http_error(req, 403);
	}
}
END_TEST

/* ---- the handshake ---- */

START_TEST(test_handshake_accepted)
{
	bytewise = _i;
	open_ws();
	ck_assert_uint_eq(web_conn_timeout_ms(conn), WEB_PREAUTH_TIMEOUT_MS);
	ck_assert_uint_eq(ev.authenticated + ev.proofs + ev.closed, 0);
}
END_TEST

/* "localhost" may be [::1], where anybody may listen: not our name. */
START_TEST(test_handshake_localhost_refused)
{
	feed_str(
		"GET /ws HTTP/1.1\r\nHost: LOCALHOST:8080\r\nOrigin: http://localhost:8080\r\n" HS_UPGRADE
			HS_KEY HS_VERSION "\r\n");
	expect_status(out_str(), 403);
	teardown();
	setup();
	feed_str(
		"GET /ws HTTP/1.1\r\n" HS_HOST
		"Origin: http://localhost:8080\r\n" HS_UPGRADE HS_KEY HS_VERSION
		"\r\n");
	expect_status(out_str(), 403);
}
END_TEST

/* Cross-site WebSocket hijacking: a page elsewhere connects to us. */
START_TEST(test_handshake_foreign_origin_refused)
{
	static const char *const origins[] = {
		"Origin: http://evil.example\r\n",
		"Origin: http://evil.example:8080\r\n",
		"Origin: https://127.0.0.1:8080\r\n",
		"Origin: http://127.0.0.1:8081\r\n",
		"Origin: null\r\n",
		"", /* none at all */
		HS_ORIGIN HS_ORIGIN,
	};
	char req[512];

	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		teardown();
		setup();
		snprintf(req, sizeof(req),
			 "GET /ws HTTP/1.1\r\n" HS_HOST
			 "%s" HS_UPGRADE HS_KEY HS_VERSION "\r\n",
			 origins[i]);
		expect_http_error(req, 403);
	}
}
END_TEST

START_TEST(test_handshake_bad_ones_refused)
{
	static const struct {
		const char *req;
		int status;
	} bad[] = {
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_VERSION
		 "\r\n",
		 400},
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY
		 "Sec-WebSocket-Version: 8\r\n\r\n",
		 426},
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY
		 "\r\n",
		 400},
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n" HS_VERSION "\r\n",
		 400},
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY
			 HS_KEY HS_VERSION "\r\n",
		 400},
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN
		 "Connection: Upgrade\r\n" HS_KEY HS_VERSION "\r\n",
		 400},
		{"GET /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN
		 "Upgrade: websocket\r\n" HS_KEY HS_VERSION "\r\n",
		 400},
		{"GET /ws HTTP/1.0\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY
			 HS_VERSION "\r\n",
		 400},
		{"POST /ws HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY
			 HS_VERSION "\r\n",
		 405},
		{"GET /ws/ HTTP/1.1\r\n" HS_HOST HS_ORIGIN HS_UPGRADE HS_KEY
			 HS_VERSION "\r\n",
		 404},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *r;

		teardown();
		setup();
		feed_str(bad[i].req);
		r = out_str();
		expect_status(r, bad[i].status);
		ck_assert_int_ne(web_conn_state(conn), WEB_STATE_AUTH);
		if (bad[i].status == 426)
			ck_assert_ptr_nonnull(
				strstr(r, "Sec-WebSocket-Version: 13\r\n"));
	}
}
END_TEST

/* Frames that arrive with the handshake are read after it. */
START_TEST(test_frames_pipelined_after_handshake)
{
	uint8_t buf[1024];
	size_t n = strlen(HANDSHAKE);

	uint8_t mac[SHA256_DIGEST_LEN];

	bytewise = _i;
	memcpy(buf, HANDSHAKE, n);
	/* A client that knows the server's nonce in advance (only a test
	 * does) may send everything at once. */
	for (unsigned int i = 0; i < WEB_NONCE_LEN; i++)
		snonce[i] = (uint8_t)(i + 1);
	proof_of(TOKEN, WEB_PROOF_CLIENT, snonce, cnonce, mac);
	n += word_frame(buf + n, "client", cnonce, sizeof(cnonce));
	n += word_frame(buf + n, "proof", mac, sizeof(mac));
	n += frame(buf + n, 0x82, true, "ls\r", 3);
	feed(buf, n);
	ck_assert_uint_eq(ev.authenticated, 1);
	ck_assert_uint_eq(ev.input_len, 3);
	ck_assert(memcmp(ev.input, "ls\r", 3) == 0);
	expect_status(out_str(), 101);
}
END_TEST

/* ---- the proof ---- */

/* A proof made with another key: held for its turn, checked, refused with
 * 1008 at once; nothing of the console passed, nothing was read meanwhile. */
START_TEST(test_wrong_proof_no_console_event_then_refused)
{
	uint8_t buf[256];
	size_t n;

	bytewise = _i;
	hold_proof = true;
	open_ws();
	ck_assert_uint_eq(web_conn_send_output(conn, (const uint8_t *)"boot",
					       4),
			  0);
	client_nonce();
	send_proof("0123456789abcdef0123456789abcdeF");
	n = frame(buf, 0x82, true, "rm -rf /\r", 9);
	n += frame(buf + n, 0x81, true, "resize 80 24", 12);
	feed(buf, n);
	ck_assert_uint_eq(ev.proofs, 1);
	ck_assert_uint_eq(ev.authenticated + ev.input_len + ev.resizes, 0);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_CHECKING);
	ck_assert_uint_eq(web_conn_read_room(conn), 0);
	/* Nothing is answered before the caller's turn for it. */
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(web_conn_timeout_ms(conn), 0);
	ck_assert_uint_eq(web_conn_send_output(conn, (const uint8_t *)"boot",
					       4),
			  0);
	web_conn_check(conn);
	drain();
	expect_close(WEB_CLOSE_POLICY);
	ck_assert_uint_eq(ev.closed, 1);
	ck_assert_uint_eq(ev.input_len + ev.resizes + ev.authenticated, 0);
}
END_TEST

/* The page's proof for one server nonce is worth nothing on another
 * connection (another nonce): what an impostor could record is useless. */
START_TEST(test_proof_for_another_nonce_refused)
{
	uint8_t buf[128], mac[SHA256_DIGEST_LEN], other[WEB_NONCE_LEN];

	open_ws();
	client_nonce();
	memcpy(other, snonce, sizeof(other));
	other[0] ^= 1;
	proof_of(TOKEN, WEB_PROOF_CLIENT, other, cnonce, mac);
	feed(buf, word_frame(buf, "proof", mac, sizeof(mac)));
	ck_assert_uint_eq(ev.proofs, 1);
	expect_close(WEB_CLOSE_POLICY);
	ck_assert_uint_eq(ev.authenticated, 0);
	/* Nor is the server's own proof, sent back. */
	teardown();
	setup();
	open_ws();
	client_nonce();
	proof_of(TOKEN, WEB_PROOF_SERVER, snonce, cnonce, mac);
	feed(buf, word_frame(buf, "proof", mac, sizeof(mac)));
	expect_close(WEB_CLOSE_POLICY);
	ck_assert_uint_eq(ev.authenticated, 0);
}
END_TEST

/* Before the proof, anything but the two handshake messages closes with
 * 1008 and is never checked: an older page's token, binary, garbage. */
START_TEST(test_handshake_steps_out_of_order_refused_unchecked)
{
	static const char *const first[] = {
		TOKEN,
		"client",
		"client AAAA",
		"proof AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"client AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"client AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*",
		"resize 80 24",
	};

	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		teardown();
		setup();
		open_ws();
		send_text(first[i]);
		expect_close(WEB_CLOSE_POLICY);
		ck_assert_uint_eq(ev.proofs + ev.authenticated, 0);
	}
	teardown();
	setup();
	open_ws();
	client_nonce();
	send_text(TOKEN);
	expect_close(WEB_CLOSE_POLICY);
	teardown();
	setup();
	open_ws();
	send_frame(0x82, TOKEN, strlen(TOKEN));
	expect_close(WEB_CLOSE_POLICY);
	teardown();
	setup();
	open_ws();
	client_nonce();
	send_frame(0x82, "x", 1);
	expect_close(WEB_CLOSE_POLICY);
	ck_assert_uint_eq(ev.proofs + ev.authenticated + ev.input_len, 0);
}
END_TEST

/* web_proof() is HMAC-SHA-256(token, label | sn | cn). */
START_TEST(test_web_proof_is_the_hmac)
{
	uint8_t a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
	uint8_t sn[WEB_NONCE_LEN] = {1}, cn[WEB_NONCE_LEN] = {2};

	web_proof(&token, WEB_PROOF_CLIENT, sn, cn, a);
	proof_of(TOKEN, WEB_PROOF_CLIENT, sn, cn, b);
	ck_assert_mem_eq(a, b, sizeof(a));
	web_proof(&token, WEB_PROOF_SERVER, sn, cn, b);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
	ck_assert_uint_eq(strlen(WEB_PROOF_SERVER), strlen(WEB_PROOF_CLIENT));
}
END_TEST

START_TEST(test_right_proof_then_input_and_resize)
{
	bytewise = _i;
	login();
	ck_assert_uint_eq(web_conn_timeout_ms(conn), 0);
	send_frame(0x82, "echo hi\r", 8);
	send_text("resize 132 43");
	send_frame(0x82, "\x1b[A", 3);
	ck_assert_uint_eq(ev.input_len, 11);
	ck_assert(memcmp(ev.input, "echo hi\r\x1b[A", 11) == 0);
	ck_assert_uint_eq(ev.resizes, 1);
	ck_assert_uint_eq(ev.cols, 132);
	ck_assert_uint_eq(ev.rows, 43);
	ck_assert_uint_eq(ev.closed, 0);
}
END_TEST

START_TEST(test_bad_resize_commands_ignored)
{
	static const char *const bad[] = {
		"resize 0 24",	"resize 80 0",	 "resize 10000 24",
		"resize 80",	"resize 80 24 ", "resize  80 24",
		"resize -1 24", "resize 80,24",	 "resize 0000080 24",
		"RESIZE 80 24", "hello",
	};

	login();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		send_text(bad[i]);
	send_text("resize 9999 1");
	ck_assert_uint_eq(ev.resizes, 1);
	ck_assert_uint_eq(ev.cols, 9999);
	ck_assert_uint_eq(ev.rows, 1);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_OPEN);
}
END_TEST

START_TEST(test_output_only_after_proof_as_binary_frames)
{
	static uint8_t big[40000];
	struct sframe f;
	size_t pos = 0, got = 0;

	open_ws();
	ck_assert_uint_eq(web_conn_send_output(conn, (const uint8_t *)"x", 1),
			  0);
	drain();
	ck_assert_uint_eq(out_len, 0);
	client_nonce();
	ck_assert_uint_eq(web_conn_send_output(conn, (const uint8_t *)"x", 1),
			  0);
	send_proof(TOKEN);
	out_len = 0;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	ck_assert_uint_eq(web_conn_send_output(conn, big, sizeof(big)),
			  sizeof(big));
	drain();
	while (next_frame(&pos, &f)) {
		ck_assert_uint_eq(f.opcode, 0x2);
		ck_assert(f.fin);
		ck_assert_uint_le(f.len, WEB_OUT_FRAME);
		ck_assert(memcmp(f.payload, big + got, f.len) == 0);
		got += f.len;
	}
	ck_assert_uint_eq(got, sizeof(big));
}
END_TEST

/* A client that never reads: output is refused past the bound. */
START_TEST(test_output_queue_bounded)
{
	static uint8_t chunk[4096];
	size_t total = 0, n;

	login();
	while ((n = web_conn_send_output(conn, chunk, sizeof(chunk))) != 0)
		total += n;
	ck_assert_uint_ge(total, WEB_OUT_MAX);
	ck_assert_uint_le(web_conn_out_pending(conn),
			  WEB_OUT_MAX + WEB_OUT_FRAME + 16);
	drain();
	ck_assert_uint_eq(web_conn_send_output(conn, chunk, 10), 10);
}
END_TEST

/* ---- frames ---- */

START_TEST(test_fragmented_message_with_ping_between)
{
	uint8_t buf[256];
	size_t n, pos = 0;
	struct sframe f;

	bytewise = _i;
	login();
	n = frame(buf, 0x02, true, "ab", 2); /* binary, not final */
	n += frame(buf + n, 0x89, true, "p!", 2); /* ping */
	n += frame(buf + n, 0x00, true, "cd", 2);
	n += frame(buf + n, 0x80, true, "ef", 2); /* final */
	n += frame(buf + n, 0x01, true, "resize 1", 8); /* text, in pieces */
	n += frame(buf + n, 0x8a, true, "", 0); /* unsolicited pong */
	n += frame(buf + n, 0x80, true, "00 50", 5);
	feed(buf, n);
	ck_assert_uint_eq(ev.input_len, 6);
	ck_assert(memcmp(ev.input, "abcdef", 6) == 0);
	ck_assert_uint_eq(ev.resizes, 1);
	ck_assert_uint_eq(ev.cols, 100);
	ck_assert_uint_eq(ev.rows, 50);
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0xa);
	ck_assert_uint_eq(f.len, 2);
	ck_assert(memcmp(f.payload, "p!", 2) == 0);
	ck_assert(!next_frame(&pos, &f));
}
END_TEST

static void expect_refused_frame(const uint8_t *buf, size_t n,
				 unsigned int code)
{
	login();
	feed(buf, n);
	expect_close(code);
	ck_assert_uint_eq(ev.closed, 1);
	ck_assert_uint_eq(ev.close_code, code);
}

START_TEST(test_unmasked_frame_refused)
{
	uint8_t buf[64];

	bytewise = _i;
	expect_refused_frame(buf, frame(buf, 0x82, false, "ls", 2),
			     WEB_CLOSE_PROTOCOL);
	ck_assert_uint_eq(ev.input_len, 0);
}
END_TEST

START_TEST(test_rsv_bits_refused)
{
	uint8_t buf[64];

	expect_refused_frame(buf, frame(buf, 0xc2, true, "ls", 2),
			     WEB_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_unknown_opcode_refused)
{
	uint8_t buf[64];

	expect_refused_frame(buf, frame(buf, 0x83, true, "ls", 2),
			     WEB_CLOSE_PROTOCOL);
	teardown();
	setup();
	expect_refused_frame(buf, frame(buf, 0x8b, true, "", 0),
			     WEB_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_control_frame_too_long_or_fragmented_refused)
{
	uint8_t buf[256], p[126] = {0};

	expect_refused_frame(buf, frame(buf, 0x89, true, p, 126),
			     WEB_CLOSE_PROTOCOL);
	teardown();
	setup();
	expect_refused_frame(buf, frame(buf, 0x09, true, p, 4),
			     WEB_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_bad_fragmentation_refused)
{
	uint8_t buf[64];
	size_t n;

	expect_refused_frame(buf, frame(buf, 0x80, true, "x", 1),
			     WEB_CLOSE_PROTOCOL);
	teardown();
	setup();
	n = frame(buf, 0x02, true, "x", 1);
	n += frame(buf + n, 0x82, true, "y", 1);
	expect_refused_frame(buf, n, WEB_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(test_oversized_frame_refused)
{
	uint8_t hdr[14] = {0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4};

	bytewise = _i;
	/* 65537 bytes announced: refused on the header, before any payload. */
	expect_refused_frame(hdr, sizeof(hdr), WEB_CLOSE_TOO_BIG);
	ck_assert_uint_eq(ev.input_len, 0);
}
END_TEST

START_TEST(test_non_minimal_length_refused)
{
	uint8_t hdr[8] = {0x82, 0xfe, 0, 5, 1, 2, 3, 4};

	expect_refused_frame(hdr, sizeof(hdr), WEB_CLOSE_PROTOCOL);
}
END_TEST

/* Frames within the limit that add up to a message over it. */
START_TEST(test_oversized_message_refused)
{
	static uint8_t p[40000], buf[2 * 40000 + 64];
	size_t n;

	n = frame(buf, 0x02, true, p, sizeof(p));
	n += frame(buf + n, 0x80, true, p, sizeof(p));
	expect_refused_frame(buf, n, WEB_CLOSE_TOO_BIG);
	/* The first frame's bytes were streamed; the second's were not. */
	ck_assert_uint_eq(ev.input_len, sizeof(p));
}
END_TEST

START_TEST(test_full_size_message_accepted)
{
	static uint8_t p[WEB_MSG_MAX], buf[WEB_MSG_MAX + 64];

	bytewise = _i;
	login();
	memset(p, 'k', sizeof(p));
	feed(buf, frame(buf, 0x82, true, p, sizeof(p)));
	ck_assert_uint_eq(ev.input_len, WEB_MSG_MAX);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_OPEN);
}
END_TEST

START_TEST(test_long_text_message_refused)
{
	static uint8_t p[WEB_TEXT_MAX + 1], buf[WEB_TEXT_MAX + 64];

	memset(p, 'a', sizeof(p));
	expect_refused_frame(buf, frame(buf, 0x81, true, p, sizeof(p)),
			     WEB_CLOSE_TOO_BIG);
}
END_TEST

START_TEST(test_invalid_utf8_refused)
{
	static const char *const bad[] = {
		"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xff",	    "abc\xe2\x82",  "\x80",
	};
	static const char good[] =
		"\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		teardown();
		setup();
		expect_refused_frame(buf,
				     frame(buf, 0x81, true, bad[i],
					   strlen(bad[i])),
				     WEB_CLOSE_INVALID);
	}
	ck_assert(web_utf8_valid((const uint8_t *)good, strlen(good)));
}
END_TEST

/* A text message split in the middle of a character is fine. */
START_TEST(test_utf8_split_across_fragments)
{
	uint8_t buf[64];
	size_t n;

	login();
	n = frame(buf, 0x01, true, "h\xc3", 2);
	n += frame(buf + n, 0x80, true, "\xa9", 1);
	feed(buf, n);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_OPEN);
}
END_TEST

START_TEST(test_close_answered_with_close)
{
	uint8_t p[] = {0x03, 0xe8, 'b', 'y', 'e'};
	struct sframe f;
	size_t pos = 0;

	bytewise = _i;
	login();
	send_frame(0x88, p, sizeof(p));
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0x8);
	ck_assert_uint_eq(f.len, 2);
	ck_assert_uint_eq(f.payload[0] << 8 | f.payload[1], 1000);
	ck_assert(web_conn_finished(conn));
	ck_assert_uint_eq(ev.closed, 1);
	ck_assert_uint_eq(ev.close_code, 1000);
	/* Nothing more is read. */
	send_frame(0x82, "x", 1);
	ck_assert_uint_eq(ev.input_len, 0);
	ck_assert_uint_eq(web_conn_read_room(conn), 0);
}
END_TEST

START_TEST(test_bad_close_frames_refused)
{
	uint8_t buf[64], one[1] = {3}, code[2] = {0x03, 0xed} /* 1005 */;
	uint8_t reason[4] = {0x03, 0xe8, 0xc0, 0xaf};

	expect_refused_frame(buf, frame(buf, 0x88, true, one, 1),
			     WEB_CLOSE_PROTOCOL);
	teardown();
	setup();
	expect_refused_frame(buf, frame(buf, 0x88, true, code, 2),
			     WEB_CLOSE_PROTOCOL);
	teardown();
	setup();
	expect_refused_frame(buf, frame(buf, 0x88, true, reason, 4),
			     WEB_CLOSE_INVALID);
}
END_TEST

/* Our close first: the peer's close ends it; data meanwhile is dropped. */
START_TEST(test_server_close_waits_for_peer)
{
	struct sframe f;
	size_t pos = 0;

	login();
	web_conn_close(conn, WEB_CLOSE_GOING_AWAY, "console gone");
	ck_assert_uint_eq(ev.closed, 1);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_CLOSING);
	ck_assert_uint_eq(web_conn_timeout_ms(conn), WEB_CLOSE_TIMEOUT_MS);
	ck_assert_uint_eq(web_conn_send_output(conn, (const uint8_t *)"x", 1),
			  0);
	drain();
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0x8);
	ck_assert_uint_eq(f.payload[0] << 8 | f.payload[1], 1001);
	out_len = 0;
	send_frame(0x82, "late", 4);
	send_frame(0x89, "", 0);
	ck_assert_uint_eq(ev.input_len, 0);
	ck_assert_uint_eq(out_len, 0);
	send_frame(0x88, "\x03\xe9", 2);
	ck_assert_uint_eq(out_len, 0); /* no second close */
	ck_assert(web_conn_finished(conn));
	ck_assert_uint_eq(ev.closed, 1);
}
END_TEST

/* A ping flood from a peer that never reads stops being read. */
START_TEST(test_ping_flood_without_reading_is_bounded)
{
	uint8_t buf[256], payload[125] = {0};
	size_t n = frame(buf, 0x89, true, payload, sizeof(payload)), fed = 0;

	login();
	for (int i = 0; i < 100000; i++) {
		if (web_conn_read_room(conn) < n)
			break;
		ck_assert_uint_eq(web_conn_feed(conn, buf, n), n);
		fed++;
	}
	ck_assert_uint_lt(fed, 100000);
	ck_assert_uint_le(web_conn_out_pending(conn), WEB_OUT_MAX + 256);
	drain();
	ck_assert_uint_ge(web_conn_read_room(conn), n);
}
END_TEST

START_TEST(test_phases_and_timeouts)
{
	unsigned int p = web_conn_phase(conn);

	ck_assert_uint_eq(web_conn_timeout_ms(conn), WEB_PREAUTH_TIMEOUT_MS);
	feed_str("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	ck_assert_uint_ne(web_conn_phase(conn), p);
	p = web_conn_phase(conn);
	feed_str("GET / HTTP/1.1\r\nHost: 127.0");
	ck_assert_uint_eq(web_conn_phase(conn), p);
	teardown();
	setup();
	login();
	ck_assert_uint_eq(web_conn_timeout_ms(conn), 0);
}
END_TEST

START_TEST(test_http10_and_connection_close_end_the_connection)
{
	static const char *const reqs[] = {
		"GET / HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n",
		"GET /nope HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n",
		"GET /nope HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char *r;

		teardown();
		setup();
		feed_str(reqs[i]);
		r = out_str();
		ck_assert_ptr_nonnull(strstr(r, "Connection: close\r\n"));
		ck_assert(web_conn_finished(conn));
	}
}
END_TEST

/* The second request waits until the first answer is written out. */
START_TEST(test_pipelined_request_waits_for_the_answer)
{
	static const char two[] =
		"GET /console.css HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
		"GET /nope HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
	const struct web_asset *css = web_asset_find("/console.css", 12);
	struct iovec iov[2];
	size_t first;

	ck_assert_uint_eq(web_conn_feed(conn, (const uint8_t *)two,
					strlen(two)),
			  strlen(two));
	first = web_conn_out_pending(conn);
	ck_assert_uint_gt(first, web_asset_len(css));
	ck_assert_uint_eq(web_conn_out_peek(conn, iov), 2);
	ck_assert_ptr_eq(iov[1].iov_base, css->data); /* not copied */
	web_conn_out_consume(conn, first - 1);
	ck_assert_uint_eq(web_conn_out_pending(conn), 1);
	web_conn_out_consume(conn, 1);
	drain();
	expect_status(out_str(), 404);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_HTTP);
}
END_TEST

START_TEST(test_head_of_ws_is_405)
{
	feed_str("HEAD /ws HTTP/1.1\r\n" HS_HOST "\r\n");
	expect_status(out_str(), 405);
	ck_assert(web_conn_finished(conn));
}
END_TEST

START_TEST(test_close_before_upgrade_fires_nothing)
{
	feed_str("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
	out_len = 0;
	web_conn_close(conn, WEB_CLOSE_GOING_AWAY, "bye");
	ck_assert(web_conn_finished(conn));
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(ev.closed, 0);
}
END_TEST

/* "ok" comes before whatever the authenticated callback sends. */
START_TEST(test_ok_precedes_output_sent_on_auth)
{
	struct sframe f;
	size_t pos = 0;

	greet_on_auth = true;
	open_ws();
	client_nonce();
	send_proof(TOKEN);
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0x1);
	ck_assert(memcmp(f.payload, "ok", 2) == 0);
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0x2);
	ck_assert(memcmp(f.payload, "login: ", 7) == 0);
}
END_TEST

/* A proof split over fragments, with a ping between, is still the proof. */
START_TEST(test_proof_in_fragments)
{
	uint8_t buf[256], mac[SHA256_DIGEST_LEN];
	char msg[64];
	size_t n, ml;

	bytewise = _i;
	open_ws();
	client_nonce();
	proof_of(TOKEN, WEB_PROOF_CLIENT, snonce, cnonce, mac);
	memcpy(msg, "proof ", 6);
	ml = 6 + base64_encode(BASE64_URL, mac, sizeof(mac), msg + 6,
			       sizeof(msg) - 6);
	n = frame(buf, 0x01, true, msg, 10);
	n += frame(buf + n, 0x89, true, "", 0);
	n += frame(buf + n, 0x80, true, msg + 10, ml - 10);
	feed(buf, n);
	ck_assert_uint_eq(ev.authenticated, 1);
	ck_assert_int_eq(web_conn_state(conn), WEB_STATE_OPEN);
}
END_TEST

/* Input that came right behind the proof waits for the check, then runs. */
START_TEST(test_input_behind_a_held_proof_runs_after_the_check)
{
	uint8_t buf[256], mac[SHA256_DIGEST_LEN];
	size_t n;

	hold_proof = true;
	open_ws();
	client_nonce();
	proof_of(TOKEN, WEB_PROOF_CLIENT, snonce, cnonce, mac);
	n = word_frame(buf, "proof", mac, sizeof(mac));
	n += frame(buf + n, 0x82, true, "ls\r", 3);
	feed(buf, n);
	ck_assert_uint_eq(ev.input_len + ev.authenticated, 0);
	web_conn_check(conn);
	ck_assert_uint_eq(ev.authenticated, 1);
	ck_assert_uint_eq(ev.input_len, 3);
	web_conn_check(conn); /* once only */
	ck_assert_uint_eq(ev.authenticated, 1);
}
END_TEST

/* A request head with bare LF line ends: 400 at once, not a timeout. */
START_TEST(test_bare_lf_head_is_400_at_once)
{
	static const char *const heads[] = {
		"GET / HTTP/1.1\nHost: 127.0.0.1:8080\n",
		"\n",
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\n",
	};

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		teardown();
		setup();
		bytewise = i == 2;
		feed_str(heads[i]);
		expect_status(out_str(), 400);
		ck_assert(web_conn_finished(conn));
	}
}
END_TEST

START_TEST(test_empty_close_answered_empty)
{
	struct sframe f;
	size_t pos = 0;

	login();
	send_frame(0x88, "", 0);
	ck_assert(next_frame(&pos, &f));
	ck_assert_uint_eq(f.opcode, 0x8);
	ck_assert_uint_eq(f.len, 0);
	ck_assert(web_conn_finished(conn));
	ck_assert_uint_eq(ev.close_code, 1005);
	ck_assert_uint_eq(web_conn_timeout_ms(conn), WEB_CLOSE_TIMEOUT_MS);
}
END_TEST

/* ---- the request parser on its own ---- */

static bool parse(const char *head, struct web_request *rq)
{
	return web_http_parse(rq, head, strlen(head));
}

START_TEST(test_http_parse_fields)
{
	struct web_request rq;

	ck_assert(parse(
		"GET /ws?x=1 HTTP/1.1\r\nhost:127.0.0.1:8080 \r\n"
		"UPGRADE: WebSocket\r\nconnection: keep-alive,\t Upgrade ,\r\n"
		"Origin:\thttp://localhost:8080\r\nContent-Length: 0\r\n\r\n",
		&rq));
	ck_assert(web_http_ieq(rq.method, rq.method_len, "GET"));
	ck_assert(web_http_ieq(rq.target, rq.target_len, "/ws?x=1"));
	ck_assert_int_eq(rq.minor, 1);
	ck_assert(web_http_ieq(rq.host, rq.host_len, "127.0.0.1:8080"));
	ck_assert(web_http_ieq(rq.origin, rq.origin_len,
			       "http://localhost:8080"));
	ck_assert(rq.upgrade_websocket && rq.connection_upgrade);
	ck_assert(!rq.connection_close && !rq.has_body);
	ck_assert_uint_eq(rq.n_key + rq.n_version, 0);
}
END_TEST

START_TEST(test_http_parse_counts_and_bodies)
{
	struct web_request rq;

	ck_assert(
		parse("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\nOrigin: x\r\n"
		      "Origin: y\r\nConnection: Close\r\nContent-Length: 00\r\n\r\n",
		      &rq));
	ck_assert_int_eq(rq.minor, 0);
	ck_assert_uint_eq(rq.n_host, 2);
	ck_assert_uint_eq(rq.n_origin, 2);
	ck_assert(rq.connection_close);
	ck_assert(rq.has_body); /* only an explicit "0" is no body */
	ck_assert(parse("GET / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
			&rq));
	ck_assert(rq.has_body);
	/* "Upgradeable" is not "Upgrade". */
	ck_assert(parse("GET / HTTP/1.1\r\nConnection: Upgradeable\r\n\r\n",
			&rq));
	ck_assert(!rq.connection_upgrade);
}
END_TEST

START_TEST(test_http_parse_refuses_malformed_heads)
{
	static const char *const bad[] = {
		"\r\n",
		"\r\nGET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"GET / HTTP/1.10\r\n\r\n",
		"GET / http/1.1\r\n\r\n",
		"GET\t/ HTTP/1.1\r\n\r\n",
		"G(T / HTTP/1.1\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\n: empty\r\n\r\n",
		"GET / HTTP/1.1\r\nNo-Colon\r\n\r\n",
		"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",
	};
	struct web_request rq;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse(bad[i], &rq), "parsed bad head %zu", i);
}
END_TEST

Suite *web_conn_suite(void)
{
	Suite *s = suite_create("web_conn");
	TCase *http = tcase_create("http");
	TCase *ws = tcase_create("websocket");

	/* Loop tests run twice: in one chunk (0) and byte by byte (1); a
	 * 64 KiB message fed byte by byte under ASan needs a few seconds on
	 * a loaded machine. */
	tcase_set_timeout(http, 30);
	tcase_set_timeout(ws, 30);
	tcase_add_checked_fixture(http, setup, teardown);
	tcase_add_loop_test(http, test_page_served_with_security_headers, 0, 2);
	tcase_add_loop_test(http, test_assets_pipelined_with_content_types, 0,
			    2);
	tcase_add_loop_test(http, test_not_found_keeps_connection, 0, 2);
	tcase_add_loop_test(http, test_post_is_405, 0, 2);
	tcase_add_loop_test(http, test_request_with_body_is_400, 0, 2);
	tcase_add_test(http, test_malformed_requests_are_400);
	tcase_add_loop_test(http, test_oversized_head_is_431, 0, 2);
	tcase_add_test(http, test_head_of_exactly_the_limit_accepted);
	tcase_add_test(http, test_foreign_host_is_403_for_every_path);
	tcase_add_loop_test(http, test_handshake_accepted, 0, 2);
	tcase_add_test(http, test_handshake_localhost_refused);
	tcase_add_test(http, test_handshake_foreign_origin_refused);
	tcase_add_test(http, test_handshake_bad_ones_refused);
	tcase_add_loop_test(http, test_frames_pipelined_after_handshake, 0, 2);
	tcase_add_test(http,
		       test_http10_and_connection_close_end_the_connection);
	tcase_add_test(http, test_pipelined_request_waits_for_the_answer);
	tcase_add_test(http, test_head_of_ws_is_405);
	tcase_add_test(http, test_close_before_upgrade_fires_nothing);
	tcase_add_test(http, test_http_parse_fields);
	tcase_add_test(http, test_http_parse_counts_and_bodies);
	tcase_add_test(http, test_http_parse_refuses_malformed_heads);
	suite_add_tcase(s, http);

	tcase_add_checked_fixture(ws, setup, teardown);
	tcase_add_loop_test(ws, test_wrong_proof_no_console_event_then_refused,
			    0, 2);
	tcase_add_loop_test(ws, test_right_proof_then_input_and_resize, 0, 2);
	tcase_add_test(ws, test_bad_resize_commands_ignored);
	tcase_add_test(ws, test_output_only_after_proof_as_binary_frames);
	tcase_add_test(ws, test_output_queue_bounded);
	tcase_add_loop_test(ws, test_fragmented_message_with_ping_between, 0,
			    2);
	tcase_add_loop_test(ws, test_unmasked_frame_refused, 0, 2);
	tcase_add_test(ws, test_rsv_bits_refused);
	tcase_add_test(ws, test_unknown_opcode_refused);
	tcase_add_test(ws, test_control_frame_too_long_or_fragmented_refused);
	tcase_add_test(ws, test_bad_fragmentation_refused);
	tcase_add_loop_test(ws, test_oversized_frame_refused, 0, 2);
	tcase_add_test(ws, test_non_minimal_length_refused);
	tcase_add_test(ws, test_oversized_message_refused);
	tcase_add_loop_test(ws, test_full_size_message_accepted, 0, 2);
	tcase_add_test(ws, test_long_text_message_refused);
	tcase_add_test(ws, test_invalid_utf8_refused);
	tcase_add_test(ws, test_utf8_split_across_fragments);
	tcase_add_loop_test(ws, test_close_answered_with_close, 0, 2);
	tcase_add_test(ws, test_bad_close_frames_refused);
	tcase_add_test(ws, test_server_close_waits_for_peer);
	tcase_add_test(ws, test_ping_flood_without_reading_is_bounded);
	tcase_add_test(ws, test_phases_and_timeouts);
	tcase_add_test(ws, test_ok_precedes_output_sent_on_auth);
	tcase_add_loop_test(ws, test_proof_in_fragments, 0, 2);
	tcase_add_test(ws, test_input_behind_a_held_proof_runs_after_the_check);
	tcase_add_test(ws, test_bare_lf_head_is_400_at_once);
	tcase_add_test(ws, test_proof_for_another_nonce_refused);
	tcase_add_test(ws, test_handshake_steps_out_of_order_refused_unchecked);
	tcase_add_test(ws, test_web_proof_is_the_hmac);
	tcase_add_test(ws, test_empty_close_answered_empty);
	suite_add_tcase(s, ws);
	return s;
}
