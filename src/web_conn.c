/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_conn.c - one browser connection: HTTP requests for the page, then a
 * WebSocket carrying the console, as a state machine without I/O (see
 * web_conn.h for the protocol and the caller's part; web_http.c parses
 * the request heads).
 *
 * The one hard decision: input is parsed out of one fixed buffer of
 * WEB_IN_CAP bytes and never copied elsewhere but for the few bytes that
 * must be whole before they mean anything (a text message, a control
 * frame). Binary payload is unmasked in place and handed on as it comes,
 * so a connection costs a fixed, small amount of memory whatever it sends,
 * and the caller's read size bounds what one feed can deliver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "log.h"
#include "sha1.h"
#include "sha256.h"
#include "web_assets.h"
#include "web_conn.h"
#include "web_http.h"

#define WS_GUID	     "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_BYTES 16

/* RFC 6455 5.2 */
#define WS_FIN	     0x80
#define WS_RSV	     0x70
#define WS_OPCODE    0x0f
#define WS_MASK	     0x80
#define WS_LEN	     0x7f
#define WS_OP_CONT   0x0
#define WS_OP_TEXT   0x1
#define WS_OP_BINARY 0x2
#define WS_OP_CLOSE  0x8
#define WS_OP_PING   0x9
#define WS_OP_PONG   0xa

#define PEER_LEN     64
#define RESPONSE_MAX (2048 + FRAME_MAX)
#define NONCE_TEXT   BASE64_URL_LEN(WEB_NONCE_LEN) /* 43 */

/* The page may load and connect to nothing but this daemon; it may be
 * framed by --web-frame-ancestors' origins only (frame_headers()). */
#define CSP                                                                    \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors "
#define FRAME_MAX (16 + WEB_ORIGINS_MAX * WEB_ORIGIN_LEN)
#define SECURITY_HEADERS                                                       \
	"Content-Security-Policy: " CSP "%s"                                   \
	"X-Content-Type-Options: nosniff\r\n"                                  \
	"Referrer-Policy: no-referrer\r\n"                                     \
	"Cache-Control: no-store\r\n"                                          \
	"Cross-Origin-Opener-Policy: same-origin\r\n"                          \
	"Cross-Origin-Resource-Policy: same-origin\r\n"

struct web_conn {
	struct web_conn_config cfg;
	char peer[PEER_LEN];
	char frame[FRAME_MAX]; /* the CSP's frame-ancestors on, and after */
	const struct web_conn_ops *ops;
	void *opaque;
	enum web_state state;
	unsigned int phase; /* bumped when a new deadline starts */
	bool upgraded; /* a WebSocket: closed fires once */
	bool closed_told;
	bool processing; /* process() is on the stack */

	uint8_t in[WEB_IN_CAP];
	size_t in_len;
	size_t head_scanned; /* of the request head at in[0], checked for bare
				LF */

	/* The handshake: our nonce (cfg.nonce), the page's, its proof. */
	uint8_t cnonce[WEB_NONCE_LEN];
	uint8_t cproof[SHA256_DIGEST_LEN];
	/* Or a one-time ticket instead of the two nonces and the proof. */
	bool by_ticket;
	bool watch_only; /* what the ticket granted */
	uint8_t ticket[WEB_TICKET_BYTES];

	/* Output: owned bytes, then (HTTP only) a built-in asset's body,
	 * which is never copied. */
	uint8_t *out;
	size_t out_head, out_len, out_cap;
	const uint8_t *body;
	size_t body_len;

	/* The frame being read. */
	bool fr_have_header;
	uint8_t fr_opcode;
	bool fr_fin;
	uint8_t fr_mask[4];
	uint64_t fr_len, fr_done;

	/* The data message being read, and the buffers for whole ones. */
	uint8_t msg_opcode; /* 0: none */
	uint64_t msg_len;
	uint8_t text[WEB_TEXT_MAX];
	uint8_t control[WEB_CONTROL_MAX];
};

static void process(struct web_conn *c);

/* ---- output ---------------------------------------------------------- */

/* out_put() - queue @n bytes; on allocation failure, give up on the
 * connection (nothing sensible can be sent any more) */
static bool out_put(struct web_conn *c, const void *p, size_t n)
{
	if (c->out_head + c->out_len + n > c->out_cap) {
		size_t need = c->out_len + n,
		       cap = c->out_cap ? c->out_cap : 512;
		uint8_t *nb;

		if (c->out_head) {
			memmove(c->out, c->out + c->out_head, c->out_len);
			c->out_head = 0;
		}
		while (cap < need)
			cap *= 2;
		if (cap > c->out_cap) {
			nb = realloc(c->out, cap);
			if (!nb) {
				log_error("web %s: out of memory", c->peer);
				c->state = WEB_STATE_DONE;
				return false;
			}
			c->out = nb;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_head + c->out_len, p, n);
	c->out_len += n;
	return true;
}

/* frame_put() - queue one unmasked server frame */
static bool frame_put(struct web_conn *c, uint8_t opcode, const void *p,
		      size_t n)
{
	uint8_t h[10];
	size_t hl = 2;

	h[0] = (uint8_t)(WS_FIN | opcode);
	if (n < 126) {
		h[1] = (uint8_t)n;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (unsigned int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	return out_put(c, h, hl) && out_put(c, p, n);
}

/* ---- closing --------------------------------------------------------- */

static void tell_closed(struct web_conn *c, unsigned int code,
			const char *reason)
{
	if (!c->upgraded || c->closed_told)
		return;
	c->closed_told = true;
	if (c->ops->closed)
		c->ops->closed(c->opaque, code, reason);
}

/* send_close() - queue a close frame with @code (0: none) and @reason */
static void send_close(struct web_conn *c, unsigned int code,
		       const char *reason)
{
	uint8_t p[WEB_CONTROL_MAX];
	size_t rl = strlen(reason), n = 0;

	if (code) {
		if (rl > WEB_CONTROL_MAX - 2)
			rl = WEB_CONTROL_MAX - 2;
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		for (size_t i = 0; i < rl; i++)
			p[2 + i] = (uint8_t)reason[i];
		n = 2 + rl;
	}
	frame_put(c, WS_OP_CLOSE, p, n);
}

/* fail() - fail the WebSocket connection (RFC 6455 7.1.7): say why in a
 * close frame and stop reading; the caller closes once it is written */
static void fail(struct web_conn *c, unsigned int code, const char *reason)
{
	log_info("web %s: closing the WebSocket (%u): %s", c->peer, code,
		 reason);
	send_close(c, code, reason);
	c->state = WEB_STATE_DONE;
	c->phase++;
	tell_closed(c, code, reason);
}

/* ---- HTTP ------------------------------------------------------------ */

/* respond_error() - a short plain-text answer; every error but 404
 * (with @keep, as the request allows) also ends the connection, since
 * what follows a bad request cannot be trusted to start a new one */
static void respond_error(struct web_conn *c, int status, bool head_only,
			  bool keep)
{
	char buf[RESPONSE_MAX], body[64];
	int bl = snprintf(body, sizeof(body), "%d %s\n", status,
			  web_http_reason(status));
	int n;

	keep = keep && status == 404;
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\n"
		     "Content-Length: %d\r\n"
		     "%s%s" SECURITY_HEADERS "Connection: %s\r\n\r\n",
		     status, web_http_reason(status), bl,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
		     c->frame, keep ? "keep-alive" : "close");

	log_debug("web %s: HTTP %d", c->peer, status);
	if (out_put(c, buf, (size_t)n) && !head_only)
		out_put(c, body, (size_t)bl);
	if (!keep)
		c->state = WEB_STATE_DONE;
	c->phase++;
}

/* respond_asset() - 200 with a built-in file; its bytes are not copied */
static void respond_asset(struct web_conn *c, const struct web_asset *a,
			  bool head_only, bool keep)
{
	char buf[RESPONSE_MAX];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 200 OK\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %zu\r\n" SECURITY_HEADERS
			 "Connection: %s\r\n\r\n",
			 a->content_type, web_asset_len(a), c->frame,
			 keep ? "keep-alive" : "close");

	if (out_put(c, buf, (size_t)n) && !head_only) {
		c->body = a->data;
		c->body_len = web_asset_len(a);
	}
	if (!keep)
		c->state = WEB_STATE_DONE;
	c->phase++;
}

/* clip() - how much of a peer's header value a log line shows */
static int clip(size_t len)
{
	return len > 100 ? 100 : (int)len;
}

/* host_is_ours() - is "@p" 127.0.0.1:PORT? A port of 80 may be left out,
 * as browsers do. Not "localhost": a browser may take that for [::1], and
 * whoever listens there first (any local user) would be the page. */
static bool host_is_ours(const struct web_conn *c, const char *p, size_t len)
{
	char want[32];

	snprintf(want, sizeof(want), "127.0.0.1:%u", (unsigned int)c->cfg.port);
	return web_http_ieq(p, len, want) ||
	       (c->cfg.port == 80 && web_http_ieq(p, len, "127.0.0.1")) ||
	       web_origins_host(c->cfg.origins, p, len);
}

/* origin_is_ours() - http://127.0.0.1:PORT, or a --web-origin exactly */
static bool origin_is_ours(const struct web_conn *c, const char *p, size_t len)
{
	char want[32];

	snprintf(want, sizeof(want), "http://127.0.0.1:%u",
		 (unsigned int)c->cfg.port);
	return web_http_ieq(p, len, want) ||
	       (c->cfg.port == 80 && web_http_ieq(p, len, "http://127.0.0.1")) ||
	       web_origins_origin(c->cfg.origins, p, len);
}

/* frame_headers() - the end of the CSP line: 'none' and X-Frame-Options
 * DENY, or --web-frame-ancestors' origins (and no X-Frame-Options, which
 * knows no list and would override them in older browsers) */
static void frame_headers(struct web_conn *c)
{
	const struct web_origins *fa = c->cfg.frame_ancestors;
	size_t n = 0;

	if (!fa || !fa->n) {
		snprintf(c->frame, sizeof(c->frame),
			 "'none'\r\nX-Frame-Options: DENY\r\n");
		return;
	}
	for (unsigned int i = 0; i < fa->n; i++)
		n += (size_t)snprintf(c->frame + n, sizeof(c->frame) - n, "%s%s",
				      i ? " " : "", fa->o[i].origin);
	snprintf(c->frame + n, sizeof(c->frame) - n, "\r\n");
}

/**
 * web_accept_key() - the Sec-WebSocket-Accept answer to a client's key
 * @key:	the Sec-WebSocket-Key value
 * @len:	its length
 * @out:	the answer, NUL-terminated: 28 characters
 * @outcap:	its size, at least 29
 *
 * Return: 0, or -1 if @key is not the base64 of 16 bytes
 */
int web_accept_key(const char *key, size_t len, char *out, size_t outcap)
{
	uint8_t raw[WS_KEY_BYTES + 3], digest[SHA1_DIGEST_LEN];
	struct sha1_ctx ctx;

	if (base64_decode(BASE64_STD, key, len, raw, sizeof(raw)) !=
	    WS_KEY_BYTES)
		return -1;
	sha1_init(&ctx);
	sha1_update(&ctx, key, len);
	sha1_update(&ctx, WS_GUID, strlen(WS_GUID));
	sha1_final(&ctx, digest);
	return base64_encode(BASE64_STD, digest, sizeof(digest), out, outcap)
		       ? 0
		       : -1;
}

/* send_word() - queue the text message "@word <base64url of @v>" */
static bool send_word(struct web_conn *c, const char *word, const uint8_t *v,
		      size_t n)
{
	char msg[16 + BASE64_URL_LEN(SHA256_DIGEST_LEN) + 1];
	size_t wl = strlen(word);

	memcpy(msg, word, wl);
	msg[wl] = ' ';
	wl += 1 + base64_encode(BASE64_URL, v, n, msg + wl + 1,
				sizeof(msg) - wl - 1);
	return frame_put(c, WS_OP_TEXT, msg, wl);
}

/* send_hello() - the first message: our fresh nonce */
static bool send_hello(struct web_conn *c)
{
	return send_word(c, "hello", c->cfg.nonce, WEB_NONCE_LEN);
}

/* upgrade() - validate a WebSocket handshake and answer it */
static void upgrade(struct web_conn *c, const struct web_request *rq)
{
	char accept[32], buf[RESPONSE_MAX];
	int n;

	if (rq->minor != 1 || !rq->upgrade_websocket ||
	    !rq->connection_upgrade || rq->n_key != 1 || rq->n_version != 1) {
		respond_error(c, 400, false, false);
		return;
	}
	if (!web_http_ieq(rq->version, rq->version_len, "13")) {
		respond_error(c, 426, false, false);
		return;
	}
	if (rq->n_origin != 1 ||
	    !origin_is_ours(c, rq->origin, rq->origin_len)) {
		log_warn("web %s: WebSocket refused: Origin '%.*s' is not this daemon's page",
			 c->peer, clip(rq->n_origin == 1 ? rq->origin_len : 0),
			 rq->n_origin == 1 ? rq->origin : "");
		respond_error(c, 403, false, false);
		return;
	}
	if (web_accept_key(rq->key, rq->key_len, accept, sizeof(accept)) < 0) {
		respond_error(c, 400, false, false);
		return;
	}
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n\r\n",
		     accept);
	if (!out_put(c, buf, (size_t)n) || !send_hello(c))
		return;
	log_debug("web %s: WebSocket open, waiting for the page's nonce",
		  c->peer);
	c->state = WEB_STATE_AUTH;
	c->upgraded = true;
	c->phase++;
}

/* handle_request() - answer one complete request head */
static void handle_request(struct web_conn *c, const char *head, size_t len)
{
	struct web_request rq;
	const struct web_asset *a;
	bool head_only, keep;

	if (!web_http_parse(&rq, head, len) || rq.has_body ||
	    (rq.minor == 1 && rq.n_host != 1) || rq.n_host > 1) {
		respond_error(c, 400, false, false);
		return;
	}
	head_only = web_http_ieq(rq.method, rq.method_len, "HEAD");
	if (!head_only &&
	    !(rq.method_len == 3 && !memcmp(rq.method, "GET", 3))) {
		respond_error(c, 405, false, false);
		return;
	}
	/* Every request, not only the upgrade: a rebound name gets
	 * nothing at all from this daemon. */
	if (rq.n_host != 1 || !host_is_ours(c, rq.host, rq.host_len)) {
		log_warn("web %s: request refused: Host '%.*s' is not this daemon's address",
			 c->peer, clip(rq.n_host == 1 ? rq.host_len : 0),
			 rq.n_host == 1 ? rq.host : "");
		respond_error(c, 403, head_only, false);
		return;
	}
	if (rq.target_len == strlen(WEB_WS_PATH) &&
	    memcmp(rq.target, WEB_WS_PATH, rq.target_len) == 0) {
		if (head_only)
			respond_error(c, 405, true, false);
		else
			upgrade(c, &rq);
		return;
	}
	keep = rq.minor == 1 && !rq.connection_close;
	a = web_asset_find(rq.target, rq.target_len);
	if (!a) {
		respond_error(c, 404, head_only, keep);
		return;
	}
	respond_asset(c, a, head_only, keep);
}

/* http_step() - handle one request if its head is all here
 * Return: bytes used, 0 if more are needed */
static size_t http_step(struct web_conn *c, const uint8_t *p, size_t n)
{
	size_t from = c->head_scanned > 3 ? c->head_scanned - 3 : 0;
	const uint8_t *end = memmem(p + from, n - from, "\r\n\r\n", 4);
	size_t scan = end ? (size_t)(end - p) + 4 : n;

	/* A bare LF ends no line here (RFC 9112 2.2 lets a server refuse
	 * it): say so now rather than wait for a CRLF CRLF that a client
	 * writing bare LFs will never send. */
	for (size_t i = c->head_scanned; i < scan; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')) {
			respond_error(c, 400, false, false);
			return n;
		}
	}
	c->head_scanned = scan;
	if (!end) {
		if (n >= WEB_HEAD_MAX) {
			respond_error(c, 431, false, false);
			return n;
		}
		return 0;
	}
	c->head_scanned = 0;
	handle_request(c, (const char *)p, scan);
	return scan;
}

/* ---- WebSocket ------------------------------------------------------- */

/**
 * web_utf8_valid() - is @p well-formed UTF-8 (RFC 3629)? No overlong
 * forms, no surrogates, nothing past U+10FFFF.
 * @p:		the bytes
 * @len:	how many
 *
 * Return: true if valid
 */
bool web_utf8_valid(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t b = p[i];
		unsigned int need;
		uint8_t lo = 0x80, hi = 0xbf;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			need = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			need = 2;
			if (b == 0xe0)
				lo = 0xa0; /* overlong */
			else if (b == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (b >= 0xf0 && b <= 0xf4) {
			need = 3;
			if (b == 0xf0)
				lo = 0x90; /* overlong */
			else if (b == 0xf4)
				hi = 0x8f; /* past U+10FFFF */
		} else {
			return false;
		}
		if (len - i - 1 < need)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (unsigned int k = 2; k <= need; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return false;
		i += need + 1;
	}
	return true;
}

/* parse_resize() - "resize COLS ROWS"; false if it is not that */
static bool parse_resize(const uint8_t *p, size_t len, unsigned int *cols,
			 unsigned int *rows)
{
	static const char cmd[] = "resize ";
	unsigned int v[2] = {0, 0};
	size_t i = sizeof(cmd) - 1;

	if (len < i || memcmp(p, cmd, i) != 0)
		return false;
	for (unsigned int k = 0; k < 2; k++) {
		size_t start = i;

		if (k == 1) {
			if (i >= len || p[i] != ' ')
				return false;
			start = ++i;
		}
		while (i < len && p[i] >= '0' && p[i] <= '9' && i - start < 5)
			v[k] = v[k] * 10 + (unsigned int)(p[i++] - '0');
		if (i == start || v[k] == 0 || v[k] > WEB_TERM_MAX)
			return false;
	}
	if (i != len)
		return false;
	*cols = v[0];
	*rows = v[1];
	return true;
}

/**
 * web_proof() - one side's proof: HMAC-SHA-256 keyed by the token over
 * @label, then the server's nonce, then the page's
 * @token:	the token
 * @label:	WEB_PROOF_SERVER or WEB_PROOF_CLIENT
 * @sn:		the server's nonce
 * @cn:		the page's nonce
 * @mac:	the proof
 */
void web_proof(const struct web_token *token, const char *label,
	       const uint8_t sn[WEB_NONCE_LEN], const uint8_t cn[WEB_NONCE_LEN],
	       uint8_t mac[SHA256_DIGEST_LEN])
{
	struct hmac_sha256_ctx h;

	hmac_sha256_init(&h, token->text, token->len);
	hmac_sha256_update(&h, label, strlen(label));
	hmac_sha256_update(&h, sn, WEB_NONCE_LEN);
	hmac_sha256_update(&h, cn, WEB_NONCE_LEN);
	hmac_sha256_final(&h, mac);
}

/* take_word() - is @p "@word <N>", N the base64url of @n bytes? Then
 * decode N into @out. */
static bool take_word(const uint8_t *p, size_t len, const char *word,
		      uint8_t *out, size_t n)
{
	size_t wl = strlen(word);

	if (len != wl + 1 + BASE64_URL_LEN(n) || memcmp(p, word, wl) != 0 ||
	    p[wl] != ' ')
		return false;
	return base64_decode(BASE64_URL, (const char *)p + wl + 1, len - wl - 1,
			     out, n) == (ssize_t)n;
}

/* refuse() - a handshake step that is not one: close 1008, unchecked */
static void refuse(struct web_conn *c, const char *why)
{
	log_warn("web %s: WebSocket handshake refused: %s", c->peer, why);
	fail(c, WEB_CLOSE_POLICY, why);
}

/* handshake() - a text message before the proof: the page's nonce, then
 * its proof */
static void handshake(struct web_conn *c, const uint8_t *p, size_t len)
{
	uint8_t mac[SHA256_DIGEST_LEN];

	if (c->state == WEB_STATE_AUTH &&
	    take_word(p, len, "ticket", c->ticket, sizeof(c->ticket))) {
		/* The ticket is the secret: held to the same turns as a
		 * proof, so that guessing tickets is no faster. */
		c->by_ticket = true;
		c->state = WEB_STATE_CHECKING;
		c->phase++;
		if (c->ops->proof)
			c->ops->proof(c->opaque);
		return;
	}
	if (c->state == WEB_STATE_AUTH) {
		if (!take_word(p, len, "client", c->cnonce, WEB_NONCE_LEN)) {
			refuse(c, "expected the page's nonce");
			return;
		}
		web_proof(c->cfg.token, WEB_PROOF_SERVER, c->cfg.nonce,
			  c->cnonce, mac);
		send_word(c, "server", mac, sizeof(mac));
		explicit_bzero(mac, sizeof(mac));
		c->state = WEB_STATE_PROOF;
		return;
	}
	if (!take_word(p, len, "proof", c->cproof, sizeof(c->cproof))) {
		refuse(c, "expected the page's proof");
		return;
	}
	c->state = WEB_STATE_CHECKING;
	c->phase++;
	if (c->ops->proof)
		c->ops->proof(c->opaque);
}

/* message_end() - a whole data message has arrived */
static void message_end(struct web_conn *c)
{
	unsigned int cols, rows;
	size_t len = (size_t)c->msg_len;
	uint8_t op = c->msg_opcode;

	c->msg_opcode = 0;
	c->msg_len = 0;
	if (op != WS_OP_TEXT || c->state == WEB_STATE_CLOSING)
		return;
	if (!web_utf8_valid(c->text, len)) {
		fail(c, WEB_CLOSE_INVALID, "text message is not UTF-8");
		return;
	}
	if (c->state == WEB_STATE_AUTH || c->state == WEB_STATE_PROOF) {
		handshake(c, c->text, len);
		explicit_bzero(c->text, len);
	} else if (parse_resize(c->text, len, &cols, &rows)) {
		if (c->ops->resize)
			c->ops->resize(c->opaque, cols, rows);
	} else {
		log_debug("web %s: unknown command ignored", c->peer);
	}
}

/* close_code_ok() - may a peer send this code? (RFC 6455 7.4) */
static bool close_code_ok(unsigned int code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/* peer_close() - the peer's close frame: answer it and finish */
static void peer_close(struct web_conn *c, const uint8_t *p, size_t len)
{
	unsigned int code = 0;

	if (len == 1) {
		fail(c, WEB_CLOSE_PROTOCOL, "close frame of one byte");
		return;
	}
	if (len >= 2) {
		code = (unsigned int)p[0] << 8 | p[1];
		if (!close_code_ok(code)) {
			fail(c, WEB_CLOSE_PROTOCOL, "invalid close code");
			return;
		}
		if (!web_utf8_valid(p + 2, len - 2)) {
			fail(c, WEB_CLOSE_INVALID, "close reason is not UTF-8");
			return;
		}
	}
	/* The page found our proof wrong: its token is not ours (or it
	 * takes us for an impostor). Worth a line: no proof was checked. */
	if (c->state == WEB_STATE_PROOF)
		log_info("web %s: the page left after our proof (%u): its token is not this daemon's",
			 c->peer, code);
	/* Answer with the same code unless we already sent our close. */
	if (c->state != WEB_STATE_CLOSING)
		send_close(c, code, "");
	log_debug("web %s: closed by the client (%u)", c->peer, code);
	c->state = WEB_STATE_DONE;
	c->phase++;
	tell_closed(c, code ? code : 1005, "closed by the client");
}

/* frame_end() - the current frame's payload is complete */
static void frame_end(struct web_conn *c)
{
	uint8_t op = c->fr_opcode;
	size_t len = (size_t)c->fr_len;

	c->fr_have_header = false;
	if (op == WS_OP_PING) {
		if (c->state != WEB_STATE_CLOSING)
			frame_put(c, WS_OP_PONG, c->control, len);
	} else if (op == WS_OP_CLOSE) {
		peer_close(c, c->control, len);
	} else if (op != WS_OP_PONG && c->fr_fin) {
		message_end(c);
	}
}

/* frame_header() - parse and check a frame header
 * Return: its length, or 0 if more bytes are needed or the frame was
 * refused (then the state is DONE) */
static size_t frame_header(struct web_conn *c, const uint8_t *p, size_t n)
{
	size_t hl = 2;
	uint64_t len;
	uint8_t op;

	if (n < 2)
		return 0;
	op = p[0] & WS_OPCODE;
	if (p[0] & WS_RSV) {
		fail(c, WEB_CLOSE_PROTOCOL, "reserved bits set");
		return 0;
	}
	if (op > WS_OP_BINARY && (op < WS_OP_CLOSE || op > WS_OP_PONG)) {
		fail(c, WEB_CLOSE_PROTOCOL, "unknown opcode");
		return 0;
	}
	if (!(p[1] & WS_MASK)) {
		fail(c, WEB_CLOSE_PROTOCOL, "client frame not masked");
		return 0;
	}
	len = p[1] & WS_LEN;
	if (len == 126)
		hl += 2;
	else if (len == 127)
		hl += 8;
	if (n < hl + 4)
		return 0;
	if (len == 126) {
		len = (uint64_t)p[2] << 8 | p[3];
		if (len < 126) {
			fail(c, WEB_CLOSE_PROTOCOL,
			     "length not in its shortest form");
			return 0;
		}
	} else if (len == 127) {
		len = 0;
		for (unsigned int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		if (len <= 0xffff || len >> 63) {
			fail(c, WEB_CLOSE_PROTOCOL,
			     "length not in its shortest form");
			return 0;
		}
	}
	if (op >= WS_OP_CLOSE) {
		if (!(p[0] & WS_FIN) || len > WEB_CONTROL_MAX) {
			fail(c, WEB_CLOSE_PROTOCOL,
			     "control frame fragmented or too long");
			return 0;
		}
	} else {
		if (len > WEB_FRAME_MAX) {
			fail(c, WEB_CLOSE_TOO_BIG, "frame too big");
			return 0;
		}
		if ((op == WS_OP_CONT) != (c->msg_opcode != 0)) {
			fail(c, WEB_CLOSE_PROTOCOL, "bad fragmentation");
			return 0;
		}
		if (op != WS_OP_CONT)
			c->msg_opcode = op;
		c->msg_len += len;
		if (c->msg_len > WEB_MSG_MAX || (c->msg_opcode == WS_OP_TEXT &&
						 c->msg_len > WEB_TEXT_MAX)) {
			fail(c, WEB_CLOSE_TOO_BIG, "message too big");
			return 0;
		}
		if ((c->state == WEB_STATE_AUTH ||
		     c->state == WEB_STATE_PROOF) &&
		    c->msg_opcode != WS_OP_TEXT) {
			refuse(c, "binary message before the proof");
			return 0;
		}
	}
	c->fr_have_header = true;
	c->fr_opcode = op;
	c->fr_fin = p[0] & WS_FIN;
	memcpy(c->fr_mask, p + hl, 4);
	c->fr_len = len;
	c->fr_done = 0;
	return hl + 4;
}

/* ws_step() - parse a frame header or take payload bytes
 * Return: bytes used, 0 if more are needed or the state changed so that
 * nothing more is taken */
static size_t ws_step(struct web_conn *c, uint8_t *p, size_t n)
{
	size_t take;
	uint64_t left;

	if (!c->fr_have_header) {
		size_t hl = frame_header(c, p, n);

		if (hl && c->fr_len == 0)
			frame_end(c);
		return hl;
	}
	left = c->fr_len - c->fr_done;
	take = n < left ? n : (size_t)left;
	for (size_t i = 0; i < take; i++)
		p[i] ^= c->fr_mask[(c->fr_done + i) & 3];
	if (c->fr_opcode >= WS_OP_CLOSE) {
		memcpy(c->control + c->fr_done, p, take);
	} else if (c->msg_opcode == WS_OP_TEXT) {
		/* msg_len already counts this whole frame. */
		size_t at = (size_t)(c->msg_len - c->fr_len + c->fr_done);

		memcpy(c->text + at, p, take);
	} else if (c->state == WEB_STATE_OPEN && take && c->ops->input) {
		c->ops->input(c->opaque, p, take);
	}
	c->fr_done += take;
	if (c->fr_done == c->fr_len)
		frame_end(c);
	return take;
}

/* ---- the loop -------------------------------------------------------- */

/* process() - use buffered input as far as the state allows */
static void process(struct web_conn *c)
{
	size_t pos = 0;

	if (c->processing)
		return;
	c->processing = true;
	while (pos < c->in_len) {
		size_t used;

		if (c->state == WEB_STATE_DONE) {
			pos = c->in_len; /* read no more */
			break;
		}
		if (c->state == WEB_STATE_CHECKING)
			break;
		if (c->state == WEB_STATE_HTTP) {
			/* One request at a time: the next waits until
			 * this answer is written out. */
			if (web_conn_out_pending(c))
				break;
			used = http_step(c, c->in + pos, c->in_len - pos);
		} else {
			if (c->out_len >= WEB_OUT_MAX)
				break; /* a peer that pings and never reads */
			used = ws_step(c, c->in + pos, c->in_len - pos);
		}
		if (used == 0 && c->state != WEB_STATE_DONE &&
		    c->state != WEB_STATE_CHECKING)
			break;
		pos += used;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	c->processing = false;
}

/* ---- the API --------------------------------------------------------- */

/**
 * web_conn_new() - a connection that has just been accepted
 * @cfg:	the daemon's port, token and the peer's name; copied
 * @ops:	callbacks; must outlive the connection
 * @opaque:	passed to each callback
 *
 * Then, until web_conn_finished() or the caller's timer: feed what the
 * socket gives (web_conn_read_room(), web_conn_feed()), write what is
 * queued (web_conn_out_peek(), web_conn_out_consume()), and re-arm the
 * timer when web_conn_phase() moves.
 *
 * Return: the connection, or NULL without memory
 */
struct web_conn *web_conn_new(const struct web_conn_config *cfg,
			      const struct web_conn_ops *ops, void *opaque)
{
	static const struct web_conn_ops none;
	struct web_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	frame_headers(c);
	snprintf(c->peer, sizeof(c->peer), "%s", cfg->peer ? cfg->peer : "?");
	c->cfg.peer = c->peer;
	c->ops = ops ? ops : &none;
	c->opaque = opaque;
	c->state = WEB_STATE_HTTP;
	return c;
}

/** web_conn_free() - forget the connection; fires no callback */
void web_conn_free(struct web_conn *c)
{
	if (!c)
		return;
	free(c->out);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/**
 * web_conn_read_room() - how many bytes the caller may read and feed now
 *
 * Return: 0 while the connection takes no input (it is finished, waits
 * for web_conn_check(), or its buffer is full because it waits for
 * output to drain): then stop watching the socket for input
 */
size_t web_conn_read_room(const struct web_conn *c)
{
	/* While its proof waits for its turn, the peer is not heard. */
	if (c->state == WEB_STATE_DONE || c->state == WEB_STATE_CHECKING)
		return 0;
	return WEB_IN_CAP - c->in_len;
}

/**
 * web_conn_feed() - bytes read from the socket
 * @c:		the connection
 * @data:	the bytes
 * @len:	how many; at most web_conn_read_room()
 *
 * May fire any callback.
 *
 * Return: how many were taken: all of them up to web_conn_read_room();
 * once finished (WEB_STATE_DONE), all of them, thrown away
 */
size_t web_conn_feed(struct web_conn *c, const uint8_t *data, size_t len)
{
	size_t room;

	if (c->state == WEB_STATE_DONE)
		return len;
	room = web_conn_read_room(c);
	if (len > room)
		len = room;
	if (len == 0)
		return 0;
	memcpy(c->in + c->in_len, data, len);
	c->in_len += len;
	process(c);
	return len;
}

/**
 * web_conn_out_peek() - the bytes waiting to be written, oldest first
 * @c:		the connection
 * @iov:	filled with up to two pieces
 *
 * Return: how many pieces (0: nothing to write)
 */
unsigned int web_conn_out_peek(const struct web_conn *c, struct iovec iov[2])
{
	unsigned int n = 0;

	if (c->out_len) {
		iov[n].iov_base = c->out + c->out_head;
		iov[n++].iov_len = c->out_len;
	}
	if (c->body_len) {
		iov[n].iov_base = (void *)c->body;
		iov[n++].iov_len = c->body_len;
	}
	return n;
}

/** web_conn_out_pending() - how many bytes wait to be written */
size_t web_conn_out_pending(const struct web_conn *c)
{
	return c->out_len + c->body_len;
}

/**
 * web_conn_out_consume() - @n bytes of what web_conn_out_peek() showed
 * were written
 *
 * Once everything is written, input that waited for it is used, so this
 * may fire any callback.
 */
void web_conn_out_consume(struct web_conn *c, size_t n)
{
	size_t k = n < c->out_len ? n : c->out_len;

	c->out_head += k;
	c->out_len -= k;
	n -= k;
	if (c->out_len == 0)
		c->out_head = 0;
	k = n < c->body_len ? n : c->body_len;
	if (k) {
		c->body += k;
		c->body_len -= k;
		if (c->body_len == 0)
			c->body = NULL;
	}
	if (c->in_len &&
	    (c->state == WEB_STATE_HTTP ? web_conn_out_pending(c) == 0
					: c->out_len < WEB_OUT_MAX))
		process(c);
}

/**
 * web_conn_send_output() - console output for the browser, as binary
 * frames
 * @c:		the connection
 * @data:	the bytes
 * @len:	how many
 *
 * Takes nothing before the proof was accepted, nor once WEB_OUT_MAX bytes
 * are queued: keep the rest and offer it again after the queue drains.
 *
 * Return: how many bytes were taken
 */
size_t web_conn_send_output(struct web_conn *c, const uint8_t *data, size_t len)
{
	size_t taken = 0;

	while (c->state == WEB_STATE_OPEN && taken < len &&
	       c->out_len < WEB_OUT_MAX) {
		size_t n = len - taken;

		if (n > WEB_OUT_FRAME)
			n = WEB_OUT_FRAME;
		if (!frame_put(c, WS_OP_BINARY, data + taken, n))
			break;
		taken += n;
	}
	return taken;
}

/**
 * web_conn_close() - end the session from this side (the console goes
 * away, the daemon stops)
 * @c:		the connection
 * @code:	a close code, e.g. WEB_CLOSE_GOING_AWAY
 * @reason:	a few words for the browser, at most 123 bytes of UTF-8
 *
 * A WebSocket gets a close frame and waits for the peer's, within
 * WEB_CLOSE_TIMEOUT_MS; an HTTP connection is simply finished.
 */
void web_conn_close(struct web_conn *c, unsigned int code, const char *reason)
{
	switch (c->state) {
	case WEB_STATE_AUTH:
	case WEB_STATE_PROOF:
	case WEB_STATE_CHECKING:
	case WEB_STATE_OPEN:
		send_close(c, code, reason);
		c->state = WEB_STATE_CLOSING;
		c->phase++;
		tell_closed(c, code, reason);
		break;
	case WEB_STATE_HTTP:
		c->state = WEB_STATE_DONE;
		c->phase++;
		break;
	case WEB_STATE_CLOSING:
	case WEB_STATE_DONE:
		break;
	}
}

/**
 * web_conn_check() - the page's proof's turn has come: compare it, in
 * constant time, with what the token gives. Right: "ok", the
 * authenticated callback, console traffic. Wrong: close 1008 at once.
 * Does nothing in any state but WEB_STATE_CHECKING.
 */
void web_conn_check(struct web_conn *c)
{
	uint8_t want[SHA256_DIGEST_LEN];
	bool ok;

	if (c->state != WEB_STATE_CHECKING)
		return;
	if (c->by_ticket) {
		int grant = c->ops->ticket ? c->ops->ticket(c->opaque, c->ticket)
					   : -1;

		ok = grant >= 0;
		c->watch_only = grant > 0;
		explicit_bzero(c->ticket, sizeof(c->ticket));
	} else {
		web_proof(c->cfg.token, WEB_PROOF_CLIENT, c->cfg.nonce,
			  c->cnonce, want);
		ok = c->cfg.token->len &&
		     ct_equal(want, c->cproof, sizeof(want));
		explicit_bzero(want, sizeof(want));
		explicit_bzero(c->cproof, sizeof(c->cproof));
	}
	c->phase++;
	/* A spent, expired or foreign ticket: the same refusal as a wrong
	 * proof, so the page and a guesser learn the same. */
	if (!ok) {
		log_warn("web %s: wrong %s; refused", c->peer,
			 c->by_ticket ? "ticket" : "proof");
		fail(c, WEB_CLOSE_POLICY, "proof refused");
		return;
	}
	log_info("web %s: %s accepted; console attached%s", c->peer,
		 c->by_ticket ? "ticket" : "proof",
		 c->watch_only ? " (watch only)" : "");
	c->state = WEB_STATE_OPEN;
	/* "ok" goes out before anything the callback sends. */
	if (!(c->watch_only ? frame_put(c, WS_OP_TEXT, "ok watch", 8)
			    : frame_put(c, WS_OP_TEXT, "ok", 2)))
		return;
	if (c->ops->authenticated)
		c->ops->authenticated(c->opaque);
	/* Input that came with the proof. */
	process(c);
}

/** web_conn_watch_only() - the session came with a watch-only ticket */
bool web_conn_watch_only(const struct web_conn *c)
{
	return c->watch_only;
}

/** web_conn_state() - where the connection is; see enum web_state */
enum web_state web_conn_state(const struct web_conn *c)
{
	return c->state;
}

/**
 * web_conn_finished() - should the caller close the socket now?
 *
 * Return: true once nothing more will be read and all is written
 */
bool web_conn_finished(const struct web_conn *c)
{
	return c->state == WEB_STATE_DONE && web_conn_out_pending(c) == 0;
}

/** web_conn_upgraded() - is it a WebSocket (not HTTP answers any more)? */
bool web_conn_upgraded(const struct web_conn *c)
{
	return c->upgraded;
}

/**
 * web_conn_phase() - a counter that moves whenever a new deadline starts
 * (a response was queued, the upgrade, the proof, a close)
 */
unsigned int web_conn_phase(const struct web_conn *c)
{
	return c->phase;
}

/**
 * web_conn_timeout_ms() - the deadline of the current phase
 *
 * Return: milliseconds, or 0 for none: WEB_PREAUTH_TIMEOUT_MS before the
 * proof (counted from accept, not from this phase), none for an open
 * console session or a proof waiting for its turn (the caller's), and
 * WEB_CLOSE_TIMEOUT_MS from the phase's start for the close
 */
unsigned int web_conn_timeout_ms(const struct web_conn *c)
{
	switch (c->state) {
	case WEB_STATE_HTTP:
	case WEB_STATE_AUTH:
	case WEB_STATE_PROOF:
		return WEB_PREAUTH_TIMEOUT_MS;
	case WEB_STATE_CLOSING:
	case WEB_STATE_DONE:
		return WEB_CLOSE_TIMEOUT_MS;
	case WEB_STATE_CHECKING:
	case WEB_STATE_OPEN:
		break;
	}
	return 0;
}
