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
 *    port (127.0.0.1:PORT or localhost:PORT), which defeats DNS
 *    rebinding: a page from evil.example that rebinds its name to
 *    127.0.0.1 still sends "Host: evil.example:PORT";
 *  - the WebSocket upgrade's Origin is http://127.0.0.1:PORT or
 *    http://localhost:PORT, which defeats cross-site WebSocket hijacking
 *    (browsers always send Origin on a WebSocket handshake);
 *  - the first WebSocket message is the token (web_token.h), compared in
 *    constant time. Nothing of the console passes either way before it:
 *    no callback but authenticated/auth_failed/closed fires and
 *    web_conn_send_output() takes nothing.
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
 * WebSocket (RFC 6455) on WEB_WS_PATH, and the console protocol on it:
 *  1. client -> server, first message, text: the token.
 *  2. server -> client: the text message "ok", then console output as
 *     binary messages; or, for a wrong token, nothing until the caller's
 *     delay has passed (web_conn_reject()), then a close frame 1008.
 *  3. client -> server: binary messages are input for the console, byte
 *     for byte (keys and paste, UTF-8 encoded); text messages are
 *     commands, of which there is one: "resize COLS ROWS" (decimal, 1 to
 *     WEB_TERM_MAX each). Other commands are ignored, so an older daemon
 *     still serves a newer page.
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
 *  - keeps one timer per connection: whenever web_conn_phase() changes
 *    after a call into the module, re-arms it to web_conn_timeout_ms()
 *    from now (0: disarm). That bounds a slow request head (slow loris),
 *    an idle keep-alive connection, the wait for the token and the close
 *    handshake. After an auth_failed callback, the same timer is armed to
 *    web_auth_delay_ms() of the daemon's recent failure count; when it
 *    fires in WEB_STATE_AUTH_FAILED, the caller calls web_conn_reject().
 */
#ifndef VDC_WEB_CONN_H
#define VDC_WEB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "web_token.h"

#define WEB_WS_PATH	"/ws"
#define WEB_HEAD_MAX	8192 /* a request's head, its blank line included */
#define WEB_IN_CAP	WEB_HEAD_MAX /* bytes read but not yet used */
#define WEB_FRAME_MAX	65536 /* payload of one frame */
#define WEB_MSG_MAX	65536 /* payload of one message, all fragments */
#define WEB_TEXT_MAX	1024 /* a text message: the token or a command */
#define WEB_CONTROL_MAX 125 /* RFC 6455 5.5 */
/* Queued bytes past which output is refused and input waits. */
#define WEB_OUT_MAX   ((size_t)256 * 1024)
#define WEB_OUT_FRAME 16384 /* console output per binary frame */
#define WEB_TERM_MAX  9999 /* largest cols or rows of a resize */

/* Timeouts web_conn_timeout_ms() gives. */
#define WEB_REQUEST_TIMEOUT_MS 10000 /* a request, from its first byte */
#define WEB_AUTH_TIMEOUT_MS    5000 /* the token, from the upgrade */
#define WEB_CLOSE_TIMEOUT_MS   2000 /* the close handshake, the last write */

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
	WEB_STATE_AUTH, /* WebSocket open, waiting for the token */
	WEB_STATE_AUTH_FAILED, /* wrong token, waiting for web_conn_reject() */
	WEB_STATE_OPEN, /* authenticated: console traffic both ways */
	WEB_STATE_CLOSING, /* our close frame is queued, the peer's awaited */
	WEB_STATE_DONE, /* nothing more is read; close once written out */
};

struct web_conn_config {
	uint16_t port; /* the daemon's own port, Host and Origin must name */
	const struct web_token *token; /* must outlive the connection */
	const char *peer; /* "127.0.0.1:54321", for log lines; copied */
};

/*
 * Callbacks, each optional. They may call web_conn_send_output(),
 * web_conn_close() and the query functions, never web_conn_free().
 * authenticated: the token was right; console traffic may flow.
 * auth_failed:   the token was wrong (already logged with the peer); the
 *                connection waits for web_conn_reject().
 * input:         bytes for the console; only after authenticated.
 * resize:        the browser's terminal size; only after authenticated.
 * closed:        the WebSocket session ended (peer's close, protocol
 *                error, rejection or web_conn_close()): @code and @reason
 *                are what was sent. Fires at most once, and only for
 *                connections that were upgraded; not from web_conn_free().
 */
struct web_conn_ops {
	void (*authenticated)(void *opaque);
	void (*auth_failed)(void *opaque);
	void (*input)(void *opaque, const uint8_t *data, size_t len);
	void (*resize)(void *opaque, unsigned int cols, unsigned int rows);
	void (*closed)(void *opaque, unsigned int code, const char *reason);
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
void web_conn_reject(struct web_conn *c);

enum web_state web_conn_state(const struct web_conn *c);
bool web_conn_finished(const struct web_conn *c);
unsigned int web_conn_phase(const struct web_conn *c);
unsigned int web_conn_timeout_ms(const struct web_conn *c);
unsigned int web_auth_delay_ms(unsigned int failures);

bool web_utf8_valid(const uint8_t *p, size_t len);
int web_accept_key(const char *key, size_t len, char *out, size_t outcap);

#endif
