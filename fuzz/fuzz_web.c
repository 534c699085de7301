/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_web.c - libFuzzer target: the web console's connection state
 * machine (src/web_conn.c), the part of the daemon a browser, or anything
 * else on the machine, talks to.
 *
 * Input: one mode byte, then records. Mode bits:
 *   0x01	a good WebSocket handshake is fed first
 *   0x02	then the page's nonce and the right proof (so the fuzzer
 *		starts inside the session)
 *   0x04	or the nonce and a wrong proof (the refused-proof path)
 *   0x08	the reader is slow: output is written only when a record says
 *   0x10	a proof is held for its turn (WEB_STATE_CHECKING) until an
 *		action checks it, instead of being checked at once
 *   0x20	after the handshake, a one-time ticket instead of the nonce
 *		and proof (the harness's table holds one live ticket, bytes
 *		0xc0.., which it grants once; the dictionary has it too)
 *   0x40	that ticket is watch-only
 *   0x80	--web-origin https://vmm.example.com and
 *		--web-frame-ancestors https://tool.example are given
 * The server's nonce is fixed (bytes 1..32), so the dictionary's
 * "client ..." and "proof ..." words are a right handshake.
 * A record starts with a control byte whose top two bits are its kind:
 *   0 raw	u16 length + bytes, fed in pieces of (ctl & 0x3f) + 1 bytes
 *		(0x3f: all at once), as far as web_conn_read_room() allows
 *   1 frame	u8 first header byte (FIN, RSV, opcode), u16 length + payload;
 *		the harness masks it (ctl bit 0 clear) and feeds it
 *   2 output	u16 length + bytes of console output (web_conn_send_output)
 *   3 action	ctl & 7: 0 write everything, 1 write u16 bytes, 2 the
 *		caller's timer fires, 3 web_conn_close(), 4 web_conn_check(),
 *		5 console output of (u8 + 1) KiB, enough to fill the queue
 *
 * Findings, besides ASan and UBSan: a console event (input, resize)
 * before the proof was accepted or after the session closed, "closed"
 * more than once, a state leaving DONE, output taken before the proof or
 * while closing, an output queue past its bound, a feed taking more than
 * web_conn_read_room(), one feed delivering more input than it brought
 * plus one buffer, and a server frame that is masked, has reserved bits
 * or an unknown opcode, and the token in a text message of the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "fuzz.h"
#include "sha256.h"
#include "web_assets.h"
#include "web_conn.h"

#define PORT  8080
#define TOKEN "0123456789abcdef0123456789abcdef"

#define MODE_HANDSHAKE 0x01
#define MODE_TOKEN     0x02
#define MODE_BAD_TOKEN 0x04
#define MODE_SLOW      0x08
#define MODE_HOLD      0x10
#define MODE_TICKET    0x20
#define MODE_WATCH     0x40
#define MODE_PROXIED   0x80

#define REC_RAW	   0u
#define REC_FRAME  1u
#define REC_OUTPUT 2u
#define REC_ACTION 3u

/* What the callbacks saw, checked as they fire. */
struct fz_web {
	struct web_conn *conn;
	bool authenticated, proof, closed, hold;
	bool ticket_spent, watch;
	size_t input_this_feed;
	unsigned int phase;
	/* Server frames, parsed as they are written once upgraded. */
	bool upgraded_seen;
	size_t http_skip; /* bytes of the 101 still to skip */
	uint8_t frame_hdr[14];
	size_t frame_hdr_len;
	uint64_t frame_left;
	uint8_t frame_op;
	uint8_t text[256]; /* the server's own text message being written */
	size_t text_len;
};

static struct fz_web fw;
static const struct web_token token = {.text = TOKEN, .len = sizeof(TOKEN) - 1};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_auth(void *o)
{
	(void)o;
	if (fw.authenticated || !fw.proof || fw.closed)
		fuzz_fail("authenticated out of order");
	if (web_conn_watch_only(fw.conn) && !(fw.ticket_spent && fw.watch))
		fuzz_fail("watch-only without a watch-only ticket");
	fw.authenticated = true;
}

static void on_proof(void *o)
{
	(void)o;
	if (fw.authenticated || fw.proof || fw.closed)
		fuzz_fail("proof out of order");
	if (web_conn_state(fw.conn) != WEB_STATE_CHECKING ||
	    web_conn_read_room(fw.conn) != 0)
		fuzz_fail("a proof held in state %d",
			  (int)web_conn_state(fw.conn));
	fw.proof = true;
	if (!fw.hold)
		web_conn_check(fw.conn);
}

static void on_input(void *o, const uint8_t *p, size_t n)
{
	(void)o;
	(void)p;
	if (!fw.authenticated || fw.closed)
		fuzz_fail("input of %zu bytes outside the session", n);
	fw.input_this_feed += n;
}

static void on_resize(void *o, unsigned int cols, unsigned int rows)
{
	(void)o;
	if (!fw.authenticated || fw.closed)
		fuzz_fail("resize outside the session");
	if (!cols || !rows || cols > WEB_TERM_MAX || rows > WEB_TERM_MAX)
		fuzz_fail("resize to %ux%u", cols, rows);
}

static void on_closed(void *o, unsigned int code, const char *reason)
{
	(void)o;
	(void)reason;
	if (fw.closed)
		fuzz_fail("closed twice");
	if (code < 1000 || code > 4999)
		fuzz_fail("closed with code %u", code);
	fw.closed = true;
}

/* The harness's ticket table: one live ticket, granted once. */
static int on_ticket(void *o, const uint8_t t[WEB_TICKET_BYTES])
{
	bool good = !fw.ticket_spent;

	(void)o;
	if (!fw.proof || fw.authenticated || fw.closed ||
	    web_conn_state(fw.conn) != WEB_STATE_CHECKING)
		fuzz_fail("a ticket spent out of order");
	for (unsigned int i = 0; i < WEB_TICKET_BYTES; i++)
		good &= t[i] == (uint8_t)(0xc0 + i);
	if (!good)
		return -1;
	fw.ticket_spent = true;
	return fw.watch ? 1 : 0;
}

static const struct web_conn_ops ops = {
	.ticket = on_ticket,
	.proof = on_proof,
	.authenticated = on_auth,
	.input = on_input,
	.resize = on_resize,
	.closed = on_closed,
};

/* text_bytes(), text_end() - the server's text messages (hello, its
 * proof, ok) are its own words: the token is never one of them. Binary
 * frames (console output) and pongs (the peer's ping, echoed) may carry
 * any bytes, the token too, so only text is checked. */
static void text_bytes(const uint8_t *p, size_t n)
{
	size_t room = sizeof(fw.text) - fw.text_len;

	if (n > room)
		n = room;
	memcpy(fw.text + fw.text_len, p, n);
	fw.text_len += n;
}

static void text_end(void)
{
	if (fw.frame_op == 0x1 &&
	    memmem(fw.text, fw.text_len, TOKEN, sizeof(TOKEN) - 1))
		fuzz_fail("the token in a text message of the server");
	fw.text_len = 0;
}

/* check_frames() - server frames written after the 101 must be sane */
static void check_frames(const uint8_t *p, size_t n)
{
	while (n) {
		if (fw.frame_left) {
			size_t k =
				n < fw.frame_left ? n : (size_t)fw.frame_left;

			if (fw.frame_op == 0x1)
				text_bytes(p, k);
			fw.frame_left -= k;
			p += k;
			n -= k;
			if (!fw.frame_left)
				text_end();
			continue;
		}
		fw.frame_hdr[fw.frame_hdr_len++] = *p++;
		n--;
		if (fw.frame_hdr_len == 2) {
			uint8_t b0 = fw.frame_hdr[0], op = b0 & 0x0f;

			if ((b0 & 0x70) || (fw.frame_hdr[1] & 0x80) ||
			    !(b0 & 0x80))
				fuzz_fail("server frame header %02x %02x", b0,
					  fw.frame_hdr[1]);
			if (op != 0x1 && op != 0x2 && op != 0x8 && op != 0xa)
				fuzz_fail("server frame opcode %u", op);
		}
		if (fw.frame_hdr_len >= 2) {
			uint8_t l = fw.frame_hdr[1] & 0x7f;
			size_t need = l == 126 ? 4 : l == 127 ? 10 : 2;

			if (fw.frame_hdr_len == need) {
				uint64_t len = l;

				if (l >= 126) {
					len = 0;
					for (size_t i = 2; i < need; i++)
						len = len << 8 |
						      fw.frame_hdr[i];
				}
				fw.frame_left = len;
				fw.frame_hdr_len = 0;
				fw.frame_op = fw.frame_hdr[0] & 0x0f;
				fw.text_len = 0;
				if (!len)
					text_end();
			}
		}
	}
}

/* written() - @n bytes the socket took: watch for the upgrade and
 * parse frames after it */
static void written(const uint8_t *p, size_t n)
{
	if (!fw.upgraded_seen)
		return;
	if (fw.http_skip) {
		size_t k = n < fw.http_skip ? n : fw.http_skip;

		fw.http_skip -= k;
		p += k;
		n -= k;
	}
	check_frames(p, n);
}

/* write_out() - the socket takes up to @limit bytes */
static void write_out(size_t limit)
{
	struct iovec iov[2];
	unsigned int n = web_conn_out_peek(fw.conn, iov);
	size_t total = 0;

	for (unsigned int i = 0; i < n && total < limit; i++) {
		size_t k = iov[i].iov_len;

		if (k > limit - total)
			k = limit - total;
		written(iov[i].iov_base, k);
		total += k;
	}
	if (total)
		web_conn_out_consume(fw.conn, total);
}

static void check_state(enum web_state before)
{
	enum web_state now = web_conn_state(fw.conn);
	size_t bound = WEB_OUT_MAX + WEB_OUT_FRAME + 4096;

	if (before == WEB_STATE_DONE && now != WEB_STATE_DONE)
		fuzz_fail("left DONE for %d", (int)now);
	for (size_t i = 0; i < web_assets_count; i++)
		if (web_asset_len(&web_assets[i]) + 4096 > bound)
			bound = web_asset_len(&web_assets[i]) + 4096;
	if (web_conn_out_pending(fw.conn) > bound)
		fuzz_fail("%zu bytes queued", web_conn_out_pending(fw.conn));
	if (web_conn_read_room(fw.conn) > WEB_IN_CAP)
		fuzz_fail("read room %zu", web_conn_read_room(fw.conn));
	if (web_conn_phase(fw.conn) < fw.phase)
		fuzz_fail("phase went back");
	fw.phase = web_conn_phase(fw.conn);
	/* A session in progress has no deadline of web_conn's, nor a proof
	 * waiting for its turn; every other state has. */
	if ((web_conn_timeout_ms(fw.conn) == 0) !=
	    (now == WEB_STATE_OPEN || now == WEB_STATE_CHECKING))
		fuzz_fail("timeout %u in state %d",
			  web_conn_timeout_ms(fw.conn), (int)now);
	/* The 101 is the first thing written once upgraded: skip it. */
	if (!fw.upgraded_seen && now != WEB_STATE_HTTP &&
	    (now != WEB_STATE_DONE || fw.closed)) {
		struct iovec iov[2];
		const uint8_t *end;

		fw.upgraded_seen = true;
		if (web_conn_out_peek(fw.conn, iov) == 0)
			fuzz_fail("upgraded with nothing to write");
		end = memmem(iov[0].iov_base, iov[0].iov_len, "\r\n\r\n", 4);
		if (!end || memcmp(iov[0].iov_base, "HTTP/1.1 101 ", 13) != 0)
			fuzz_fail("upgrade without a 101 first");
		fw.http_skip =
			(size_t)(end - (const uint8_t *)iov[0].iov_base) + 4;
	}
}

/* feed() - feed @n bytes in pieces of @piece, as room allows */
static void feed(const uint8_t *p, size_t n, size_t piece, bool slow)
{
	while (n) {
		enum web_state before = web_conn_state(fw.conn);
		size_t room = web_conn_read_room(fw.conn), k, took;

		if (room == 0) {
			if (slow || before == WEB_STATE_DONE ||
			    web_conn_out_pending(fw.conn) == 0)
				return; /* the caller would stop reading */
			write_out(SIZE_MAX);
			check_state(before);
			continue;
		}
		k = n < piece ? n : piece;
		if (k > room)
			k = room;
		fw.input_this_feed = 0;
		took = web_conn_feed(fw.conn, p, k);
		if (took != k)
			fuzz_fail("fed %zu of %zu within room %zu", took, k,
				  room);
		if (fw.input_this_feed > k + WEB_IN_CAP)
			fuzz_fail("%zu input bytes from a feed of %zu",
				  fw.input_this_feed, k);
		check_state(before);
		p += took;
		n -= took;
		if (!slow) {
			write_out(SIZE_MAX);
			check_state(before);
		}
	}
}

static void feed_masked(uint8_t b0, const uint8_t *payload, size_t n,
			bool masked, uint32_t mask, bool slow)
{
	uint8_t *buf = malloc(n + 14);
	size_t h = 2;

	if (!buf)
		fuzz_fail("out of memory");
	buf[0] = b0;
	if (n < 126) {
		buf[1] = (uint8_t)n;
	} else {
		buf[1] = 126;
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		h = 4;
	}
	if (masked) {
		buf[1] |= 0x80;
		memcpy(buf + h, &mask, 4);
	}
	for (size_t i = 0; i < n; i++)
		buf[h + (masked ? 4 : 0) + i] =
			(uint8_t)(payload[i] ^ (masked ? buf[h + (i & 3)] : 0));
	feed(buf, n + h + (masked ? 4 : 0), SIZE_MAX, slow);
	free(buf);
}

/* send_word() - the text frame "@word <base64url of @v>" */
static void send_word(const char *word, const uint8_t *v, size_t n, bool slow)
{
	char msg[64];
	size_t wl = strlen(word);

	memcpy(msg, word, wl);
	msg[wl] = ' ';
	wl += 1 + base64_encode(BASE64_URL, v, n, msg + wl + 1,
				sizeof(msg) - wl - 1);
	feed_masked(0x81, (const uint8_t *)msg, wl, true, 0x12345678, slow);
}

/* handshake_steps() - the page's nonce, then a right or wrong proof */
static void handshake_steps(const uint8_t *sn, bool right, bool slow)
{
	static const struct web_token other =
		{.text = "0123456789abcdef0123456789abcdeX", .len = 32};
	uint8_t cn[WEB_NONCE_LEN], mac[SHA256_DIGEST_LEN];

	for (unsigned int i = 0; i < WEB_NONCE_LEN; i++)
		cn[i] = (uint8_t)(0xa0 + i);
	send_word("client", cn, sizeof(cn), slow);
	web_proof(right ? &token : &other, WEB_PROOF_CLIENT, sn, cn, mac);
	send_word("proof", mac, sizeof(mac), slow);
}

static void action(unsigned int what, struct fz_in *in)
{
	enum web_state before = web_conn_state(fw.conn);

	switch (what) {
	case 0:
		write_out(SIZE_MAX);
		break;
	case 1:
		write_out(fz_u16(in));
		break;
	case 2:
		if (before == WEB_STATE_CHECKING)
			web_conn_check(fw.conn);
		break;
	case 3:
		web_conn_close(fw.conn, WEB_CLOSE_GOING_AWAY, "going away");
		break;
	case 4:
		web_conn_check(fw.conn);
		break;
	case 5: {
		static uint8_t lots[256 * 1024];
		size_t n = ((size_t)fz_u8(in) + 1) * 1024, took;

		took = web_conn_send_output(fw.conn, lots, n);
		if (took && (!fw.authenticated || fw.closed ||
			     before != WEB_STATE_OPEN))
			fuzz_fail("output taken outside the session");
		break;
	}
	default:
		break;
	}
	check_state(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char handshake[] =
		"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
		"Origin: http://127.0.0.1:8080\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n";
	struct web_conn_config cfg = {.port = PORT,
				      .token = &token,
				      .peer = "127.0.0.1:1"};
	struct fz_in in = {data, size};
	uint8_t mode = fz_u8(&in);
	bool slow = mode & MODE_SLOW;

	static struct web_origins proxy, tool;
	char why[200];

	if (!proxy.n &&
	    (web_origin_add(&proxy, "https://vmm.example.com", why, sizeof(why)) < 0 ||
	     web_origin_add(&tool, "https://tool.example", why, sizeof(why)) < 0))
		fuzz_fail("origins: %s", why);
	if (mode & MODE_PROXIED) {
		cfg.origins = &proxy;
		cfg.frame_ancestors = &tool;
	}
	memset(&fw, 0, sizeof(fw));
	fw.hold = mode & MODE_HOLD;
	fw.watch = mode & MODE_WATCH;
	for (unsigned int i = 0; i < WEB_NONCE_LEN; i++)
		cfg.nonce[i] = (uint8_t)(i + 1);
	fw.conn = web_conn_new(&cfg, &ops, NULL);
	if (!fw.conn)
		fuzz_fail("out of memory");
	if (mode & MODE_HANDSHAKE) {
		feed((const uint8_t *)handshake, sizeof(handshake) - 1,
		     SIZE_MAX, false);
		if (mode & MODE_TICKET) {
			uint8_t t[WEB_TICKET_BYTES];

			for (unsigned int i = 0; i < WEB_TICKET_BYTES; i++)
				t[i] = (uint8_t)(0xc0 + i);
			send_word("ticket", t, sizeof(t), slow);
		} else if (mode & (MODE_TOKEN | MODE_BAD_TOKEN)) {
			handshake_steps(cfg.nonce, mode & MODE_TOKEN, slow);
		}
	}
	while (in.left && !web_conn_finished(fw.conn)) {
		uint8_t ctl = fz_u8(&in);
		const uint8_t *p;
		size_t n;

		switch (ctl >> 6) {
		case REC_RAW: {
			size_t piece = (ctl & 0x3f) == 0x3f ? SIZE_MAX
							    : (ctl & 0x3fu) + 1;

			p = fz_bytes(&in, fz_u16(&in), &n);
			feed(p, n, piece, slow);
			break;
		}
		case REC_FRAME: {
			uint8_t b0 = fz_u8(&in);
			uint16_t len = fz_u16(&in);
			uint32_t mask = fz_u32(&in);

			p = fz_bytes(&in, len, &n);
			feed_masked(b0, p, n, !(ctl & 1), mask, slow);
			break;
		}
		case REC_OUTPUT: {
			enum web_state before = web_conn_state(fw.conn);
			size_t took;

			p = fz_bytes(&in, fz_u16(&in), &n);
			took = web_conn_send_output(fw.conn, p, n);
			if (took && (!fw.authenticated || fw.closed ||
				     before != WEB_STATE_OPEN))
				fuzz_fail("output taken outside the session");
			check_state(before);
			break;
		}
		default:
			action(ctl & 7, &in);
			break;
		}
	}
	write_out(SIZE_MAX);
	web_conn_free(fw.conn);
	return 0;
}
