/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_conn.h - one browser connection to the web console, as a state
 * machine without I/O: the caller feeds it the bytes it reads from the
 * socket, writes out the bytes it queues, and hears of what happened
 * through a small table of callbacks.
 *
 * SECURITY: everything a connection sends is hostile until proven
 * otherwise. Any local user, and any web page a local browser opens, can
 * reach a loopback port. So the connection checks, in order:
 *  - every request's Host names this daemon's own loopback address and
 *    port (127.0.0.1:PORT; not "localhost", which may also name [::1],
 *    an address another user can listen on), which defeats DNS
 *    rebinding: a page from evil.example that rebinds its name to
 *    127.0.0.1 still sends "Host: evil.example:PORT";
 *  - the WebSocket upgrade's Origin is http://127.0.0.1:PORT, which
 *    defeats cross-site WebSocket hijacking
 *    (browsers always send Origin on a WebSocket handshake);
 *  - on the WebSocket, both sides prove they know the token without
 *    sending it (below); nothing of the console passes either way before
 *    the page's proof was checked: no callback but proof/authenticated/
 *    closed fires and web_conn_send_output() takes nothing.
 * Limits are strict and checked where the bytes enter: WEB_HEAD_MAX for a
 * request's head, WEB_FRAME_MAX and WEB_MSG_MAX for frames and messages.
 *
 * HTTP: GET (or HEAD) of "/" and the other built-in assets
 * (web_assets.h), with a Content-Security-Policy that allows only this
 * daemon's own scripts, styles and WebSocket, no framing, no sniffing, no
 * referrer, no caching. 404 for other paths, 405 for other methods, 400
 * for malformed requests and requests with a body, 403 for a foreign Host
 * or Origin, 426 for a WebSocket version other than 13, 431 for a head
 * over WEB_HEAD_MAX. Keep-alive and pipelining work; requests are answered
 * one at a time, the next read only once the previous answer has been
 * written out. Any error but 404 closes the connection.
 *
 * WebSocket (RFC 6455) on WEB_WS_PATH, and the console protocol on it.
 * All handshake messages are text; N is 32 bytes in base64url without
 * padding (43 characters); sn is the server's fresh nonce (given by the
 * caller, web_conn_config.nonce), cn the page's; "|" is concatenation:
 *  1. server: "hello <sn>", right after the 101.
 *  2. client: "client <cn>".
 *  3. server: "server <HMAC-SHA-256(token, WEB_PROOF_SERVER | sn | cn)>".
 *     The page checks this first, and stops there if it is wrong: an
 *     impostor without the token gets nothing it could use.
 *  4. client: "proof <HMAC-SHA-256(token, WEB_PROOF_CLIENT | sn | cn)>".
 *     The connection holds it (WEB_STATE_CHECKING, proof callback) until
 *     the caller's turn for it comes (web_guess.h) and calls
 *     web_conn_check(), which compares in constant time.
 *  5. server: "ok", then console output as binary messages; or, for a
 *     wrong proof, a close 1008 at once (the delay came before the check).
 *  6. client: binary messages are input for the console, byte for byte
 *     (keys and paste, UTF-8 encoded); text messages are commands, of
 *     which there is one: "resize COLS ROWS" (decimal, 1 to WEB_TERM_MAX
 *     each). Other commands are ignored, so an older daemon still serves a
 *     newer page.
 * Anything else before the proof (a binary message, another text, the
 * token itself as an older page sent it) closes with 1008 unchecked.
 * Client frames must be masked; no extension or subprotocol is
 * negotiated. Reserved bits, unknown opcodes, unmasked frames, bad
 * fragmentation and long or fragmented control frames close with 1002,
 * invalid UTF-8 in a text message or close reason with 1007, frames and
 * messages over the limits with 1009. Pings are answered with pongs, a
 * close with a close.
 *
 * Input is streamed: binary frames reach the input callback as their
 * bytes arrive, so one web_conn_feed() of N bytes delivers at most
 * N + WEB_IN_CAP bytes of input (what was buffered before). A caller with
 * no room for input simply stops reading the socket.
 *
 * What the caller does (see web_conn_new() for the call order):
 *  - reads at most web_conn_read_room() bytes when it is not zero, and
 *    feeds them; stops watching for input while it is zero;
 *  - writes what web_conn_out_peek() shows with non-blocking writes and
 *    calls web_conn_out_consume() with what was written; watches for
 *    writability while anything is queued;
 *  - closes the socket and frees the connection once web_conn_finished(),
 *    on EOF or a socket error at any time, and when its timer fires;
 *  - keeps one timer per connection (web_server.c): one deadline of
 *    WEB_PREAUTH_TIMEOUT_MS from accept to the proof, whatever is
 *    requested meanwhile; an HTTP answer being written is bounded by its
 *    progress instead; in WEB_STATE_CHECKING, the proof's booked turn,
 *    then web_conn_check(); in CLOSING and DONE, web_conn_timeout_ms()
 *    from the last change of web_conn_phase().
 */
#ifndef VDC_WEB_CONN_H
#define VDC_WEB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "sha256.h"
#include "web_origin.h"
#include "web_token.h"

#define WEB_WS_PATH   "/ws"
#define WEB_NONCE_LEN 32 /* bytes of each side's nonce */
#define WEB_TICKET_BYTES 32 /* a one-time ticket (web_ticket.h) */
/* What each side's HMAC covers before the nonces: same length, so no
 * message of one side is ever one of the other's. */
#define WEB_PROOF_SERVER "vdc-web-1 server"
#define WEB_PROOF_CLIENT "vdc-web-1 client"
#define WEB_HEAD_MAX	 8192 /* a request's head, its blank line included */
#define WEB_IN_CAP	 WEB_HEAD_MAX /* bytes read but not yet used */
#define WEB_FRAME_MAX	 65536 /* payload of one frame */
#define WEB_MSG_MAX	 65536 /* payload of one message, all fragments */
#define WEB_TEXT_MAX	 1024 /* a text message: a handshake step or a command */
#define WEB_CONTROL_MAX	 125 /* RFC 6455 5.5 */
/* Queued bytes past which output is refused and input waits. */
#define WEB_OUT_MAX   ((size_t)256 * 1024)
#define WEB_OUT_FRAME 16384 /* console output per binary frame */
#define WEB_TERM_MAX  9999 /* largest cols or rows of a resize */

/* Deadlines. */
#define WEB_PREAUTH_TIMEOUT_MS                                                 \
	10000 /* accept to proof, whatever comes between */
#define WEB_CLOSE_TIMEOUT_MS 2000 /* the close handshake, the last write */

/* Close codes, RFC 6455 7.4.1. */
#define WEB_CLOSE_NORMAL     1000
#define WEB_CLOSE_GOING_AWAY 1001
#define WEB_CLOSE_PROTOCOL   1002
#define WEB_CLOSE_INVALID    1007
#define WEB_CLOSE_POLICY     1008
#define WEB_CLOSE_TOO_BIG    1009
#define WEB_CLOSE_INTERNAL   1011

enum web_state {
	WEB_STATE_HTTP, /* reading HTTP requests */
	WEB_STATE_AUTH, /* WebSocket open, hello sent, waiting for "client" */
	WEB_STATE_PROOF, /* our proof sent, waiting for the page's */
	WEB_STATE_CHECKING, /* the page's proof held for web_conn_check() */
	WEB_STATE_OPEN, /* authenticated: console traffic both ways */
	WEB_STATE_CLOSING, /* our close frame is queued, the peer's awaited */
	WEB_STATE_DONE, /* nothing more is read; close once written out */
};

struct web_conn_config {
	uint16_t port; /* the daemon's own port, Host and Origin must name */
	const struct web_token *token; /* must outlive the connection */
	const char *peer; /* "127.0.0.1:54321", for log lines; copied */
	uint8_t nonce[WEB_NONCE_LEN]; /* fresh from getrandom(), per connection */
	/* --web-origin: Host and Origin accepted besides 127.0.0.1:port;
	 * --web-frame-ancestors: who may frame the page. NULL: none. Must
	 * outlive the connection. */
	const struct web_origins *origins;
	const struct web_origins *frame_ancestors;
};

/*
 * Callbacks, each optional. They may call web_conn_send_output(),
 * web_conn_close() and the query functions, never web_conn_free().
 * proof:         the page's proof arrived; book its turn and call
 *                web_conn_check() then (may be from this callback).
 * authenticated: the proof was right; console traffic may flow.
 * input:         bytes for the console; only after authenticated.
 * resize:        the browser's terminal size; only after authenticated.
 * closed:        the WebSocket session ended (peer's close, protocol
 *                error, a refused proof or web_conn_close()): @code and @reason
 *                are what was sent. Fires at most once, and only for
 *                connections that were upgraded; not from web_conn_free().
 */
struct web_conn_ops {
	void (*proof)(void *opaque);
	void (*authenticated)(void *opaque);
	void (*input)(void *opaque, const uint8_t *data, size_t len);
	void (*resize)(void *opaque, unsigned int cols, unsigned int rows);
	void (*closed)(void *opaque, unsigned int code, const char *reason);
	/* ticket: the page presented a one-time ticket instead of a proof,
	 * and its turn has come (from web_conn_check()); spend it. Return
	 * -1 refused, 0 a full session, 1 watch-only. NULL: refused. */
	int (*ticket)(void *opaque, const uint8_t secret[WEB_TICKET_BYTES]);
};

struct web_conn;

struct web_conn *web_conn_new(const struct web_conn_config *cfg,
			      const struct web_conn_ops *ops, void *opaque);
void web_conn_free(struct web_conn *c);

size_t web_conn_read_room(const struct web_conn *c);
size_t web_conn_feed(struct web_conn *c, const uint8_t *data, size_t len);

unsigned int web_conn_out_peek(const struct web_conn *c, struct iovec iov[2]);
size_t web_conn_out_pending(const struct web_conn *c);
void web_conn_out_consume(struct web_conn *c, size_t n);

size_t web_conn_send_output(struct web_conn *c, const uint8_t *data,
			    size_t len);
void web_conn_close(struct web_conn *c, unsigned int code, const char *reason);
void web_conn_check(struct web_conn *c);

enum web_state web_conn_state(const struct web_conn *c);
bool web_conn_finished(const struct web_conn *c);
bool web_conn_watch_only(const struct web_conn *c);
bool web_conn_upgraded(const struct web_conn *c);
unsigned int web_conn_phase(const struct web_conn *c);
unsigned int web_conn_timeout_ms(const struct web_conn *c);
void web_proof(const struct web_token *token, const char *label,
	       const uint8_t sn[WEB_NONCE_LEN], const uint8_t cn[WEB_NONCE_LEN],
	       uint8_t mac[SHA256_DIGEST_LEN]);

bool web_utf8_valid(const uint8_t *p, size_t len);
int web_accept_key(const char *key, size_t len, char *out, size_t outcap);

#endif
