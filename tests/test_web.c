/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web.c - the web console in the daemon (--web-port), driven by a
 * small WebSocket client: the mutual proof first (HMAC-SHA-256 over both
 * nonces; the token never crosses the wire), then console output and
 * input both ways and resizes; a wrong proof gets no byte of the console;
 * a foreign Origin or Host gets no WebSocket at all. As another uid
 * (65534): refused with a 403 before anything else unless allowed; when
 * allowed, its flood of kept-alive connections does not keep the owner
 * out, and its parallel, early-closing guesses are held to the
 * documented rate (web_guess.h).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base64.h"
#include "session.h"
#include "suites.h"
#include "web_conn.h"
#include "web_guess.h"

#define WEB_PORT 23720

static struct session s;
static struct fe fe;
static char token[128];

static void start(const char *const extra[])
{
	char path[160];
	FILE *f;

	session_start(&s, extra);
	snprintf(path, sizeof(path), "%s/vu.web-token", s.dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(token, sizeof(token), f));
	fclose(f);
	token[strcspn(token, "\n")] = '\0';
	ck_assert_uint_ge(strlen(token), 32);
}

static void setup(void)
{
	static const char *const extra[] = {"--web-port=23720",
					    "--max-clients=2", NULL};

	start(extra);
}

/* The other uid may come in: --allow-user=65534. */
static void setup_allowed(void)
{
	static const char *const extra[] = {"--web-port=23720",
					    "--allow-user=65534", NULL};

	start(extra);
}

/* Behind a reverse proxy, framed by a management tool. */
static void setup_proxied(void)
{
	static const char *const extra[] = {
		"--web-port=23720", "--web-origin=https://vmm.example.com",
		"--web-frame-ancestors=https://tool.example:8443", NULL};

	start(extra);
}

static void teardown(void)
{
	fe_close(&fe);
	session_stop(&s);
}

/* as_root() - can this test become another uid? `make check-unit` runs
 * without root: the tests that need it pass without checking, and say so */
static bool as_root(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "(not root: uid 65534's side not tested)\n");
	return false;
}

/* as_nobody() - in a forked child: become uid/gid 65534, no groups */
static void as_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		_exit(99);
}

static int tcp_connect(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(WEB_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send a GET upgrade with @host and @origin; the status line's code. */
static int upgrade(int fd, const char *host, const char *origin)
{
	char req[512], resp[1024];
	size_t have = 0;
	int n = snprintf(req, sizeof(req),
			 "GET /ws HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\n"
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n",
			 host, origin);

	write_all(fd, req, (size_t)n);
	/* The head, byte by byte, so nothing after it is taken. */
	while (have < sizeof(resp) - 1 &&
	       (have < 4 || memcmp(resp + have - 4, "\r\n\r\n", 4) != 0)) {
		if (!read_exact(fd, resp + have, 1, 3000))
			break;
		have++;
	}
	resp[have] = '\0';
	ck_assert_msg(strncmp(resp, "HTTP/1.1 ", 9) == 0, "answer: %s", resp);
	return atoi(resp + 9);
}

/* One masked client frame. */
static void send_frame(int fd, int opcode, const void *data, size_t len)
{
	uint8_t f[14 + 1024];
	const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
	size_t h = 2;

	ck_assert_uint_le(len, 1024);
	f[0] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		f[1] = (uint8_t)(0x80 | len);
	} else {
		f[1] = 0x80 | 126;
		f[2] = (uint8_t)(len >> 8);
		f[3] = (uint8_t)len;
		h = 4;
	}
	memcpy(f + h, mask, 4);
	for (size_t i = 0; i < len; i++)
		f[h + 4 + i] = ((const uint8_t *)data)[i] ^ mask[i % 4];
	write_all(fd, f, h + 4 + len);
}

/* One server frame: its opcode, its payload in @buf (NUL-terminated);
 * -1 if none came within @timeout_ms. */
static int recv_frame(int fd, char *buf, size_t cap, size_t *len,
		      int timeout_ms)
{
	uint8_t h[8];
	size_t n;

	if (!read_exact(fd, h, 2, timeout_ms))
		return -1;
	n = h[1] & 0x7f;
	if (n == 126) {
		ck_assert(read_exact(fd, h + 2, 2, 3000));
		n = (size_t)h[2] << 8 | h[3];
	}
	ck_assert_uint_lt(n, cap);
	if (n)
		ck_assert(read_exact(fd, buf, n, 3000));
	buf[n] = '\0';
	*len = n;
	return h[0] & 0x0f;
}

/* send_word() - the text message "@word <base64url of @v>" */
static void send_word(int fd, const char *word, const uint8_t *v, size_t n)
{
	char msg[128];
	size_t wl = strlen(word);

	memcpy(msg, word, wl);
	msg[wl] = ' ';
	wl += 1 + base64_encode(BASE64_URL, v, n, msg + wl + 1,
				sizeof(msg) - wl - 1);
	send_frame(fd, 1, msg, wl);
}

/* take_word() - decode the text "@word <N>" into @v (@n bytes) */
static bool take_word(const char *msg, size_t len, const char *word, uint8_t *v,
		      size_t n)
{
	size_t wl = strlen(word);

	return len == wl + 1 + BASE64_URL_LEN(n) && !memcmp(msg, word, wl) &&
	       msg[wl] == ' ' &&
	       base64_decode(BASE64_URL, msg + wl + 1, len - wl - 1, v, n) ==
		       (ssize_t)n;
}

/*
 * prove() - the page's side of the handshake on an upgraded @fd, with
 * @tok as the key (NULL: a random wrong proof). The server's proof is
 * checked as the page checks it.
 * Return: false if the server's hello or proof was missing or wrong
 */
static bool prove(int fd, const char *tok)
{
	struct web_token key = {0};
	uint8_t sn[WEB_NONCE_LEN], cn[WEB_NONCE_LEN];
	uint8_t mac[SHA256_DIGEST_LEN], want[SHA256_DIGEST_LEN];
	char buf[256];
	size_t len;

	snprintf(key.text, sizeof(key.text), "%s", tok ? tok : token);
	key.len = strlen(key.text);
	if (recv_frame(fd, buf, sizeof(buf), &len, 3000) != 1 ||
	    !take_word(buf, len, "hello", sn, sizeof(sn)))
		return false;
	ck_assert_int_eq(getrandom(cn, sizeof(cn), 0), (ssize_t)sizeof(cn));
	send_word(fd, "client", cn, sizeof(cn));
	if (recv_frame(fd, buf, sizeof(buf), &len, 3000) != 1 ||
	    !take_word(buf, len, "server", mac, sizeof(mac)))
		return false;
	web_proof(&key, WEB_PROOF_SERVER, sn, cn, want);
	if (memcmp(mac, want, sizeof(mac)) != 0)
		return false;
	if (tok)
		web_proof(&key, WEB_PROOF_CLIENT, sn, cn, mac);
	else
		ck_assert_int_eq(getrandom(mac, sizeof(mac), 0),
				 (ssize_t)sizeof(mac));
	send_word(fd, "proof", mac, sizeof(mac));
	return true;
}

static int open_console(void)
{
	char buf[256];
	size_t len;
	int fd = tcp_connect();

	ck_assert_int_eq(upgrade(fd, "127.0.0.1:23720",
				 "http://127.0.0.1:23720"),
			 101);
	ck_assert(prove(fd, token));
	ck_assert_int_eq(recv_frame(fd, buf, sizeof(buf), &len, 3000), 1);
	ck_assert_str_eq(buf, "ok");
	return fd;
}

/*
 * mint() - a ticket for guest @guest from the `ticket` subcommand, as a
 * management tool gets one; @more: further options ("" for none)
 */
static void mint(unsigned int guest, const char *more, char *out, size_t cap)
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s ticket --control-socket=%s/vu.ctl --guest=%u %s",
		 daemon_path(), s.dir, guest, more);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, (int)cap, p));
	ck_assert_int_eq(pclose(p), 0);
	out[strcspn(out, "\n")] = '\0';
	ck_assert_uint_eq(strlen(out), 43);
}

/* spend() - present @ticket on a new WebSocket; the server's answer
 * ("ok", "ok watch") or its close code as text ("1008") */
static int spend(const char *ticket, char *answer, size_t cap)
{
	char buf[256], msg[64];
	uint8_t sn[WEB_NONCE_LEN];
	size_t len;
	int op, fd = tcp_connect();

	ck_assert_int_eq(upgrade(fd, "127.0.0.1:23720",
				 "http://127.0.0.1:23720"),
			 101);
	ck_assert_int_eq(recv_frame(fd, buf, sizeof(buf), &len, 3000), 1);
	ck_assert(take_word(buf, len, "hello", sn, sizeof(sn)));
	snprintf(msg, sizeof(msg), "ticket %s", ticket);
	send_frame(fd, 1, msg, strlen(msg));
	op = recv_frame(fd, buf, sizeof(buf), &len, 5000);
	if (op == 8 && len >= 2)
		snprintf(answer, cap, "%u %s",
			 (unsigned int)((uint8_t)buf[0] << 8 | (uint8_t)buf[1]),
			 buf + 2);
	else
		snprintf(answer, cap, "%s", op == 1 ? buf : "?");
	return fd;
}

/* Read binary frames until @want has come (output may be split). */
static void expect_output(int fd, const char *want)
{
	static char got[4096];
	size_t have = 0, len;

	while (have < strlen(want)) {
		int op = recv_frame(fd, got + have, sizeof(got) - have, &len,
				    3000);

		ck_assert_msg(op == 2, "frame %d after \"%.*s\"", op, (int)have,
			      got);
		have += len;
	}
	ck_assert_str_eq(got, want);
}

/* The guest's output reaches the session @ws, and its typing the guest. */
static void output_and_input(int ws)
{
	char got[16];

	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "login: ", 7, 7,
				      false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	expect_output(ws, "login: ");
	send_frame(ws, 2, "root\r", 5);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 5);
	ck_assert(memcmp(got, "root\r", 5) == 0);
}

START_TEST(test_browser_sees_output_and_types)
{
	int ws;

	session_console(&s, &fe, FE_STYLE_QEMU);
	ws = open_console();
	output_and_input(ws);
	close(ws);
}
END_TEST

START_TEST(test_browser_resize_reaches_the_guest)
{
	struct virtio_console_control m;
	char size[16];
	size_t len;
	int ws;

	session_console(&s, &fe, FE_STYLE_QEMU);
	/* F_SIZE was offered: the first RESIZE came with the handshake. */
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, size, sizeof(size), &len, 3000),
			 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_RESIZE);
	ws = open_console();
	send_frame(ws, 1, "resize 132 43", 13);
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, size, sizeof(size), &len, 3000),
			 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_RESIZE);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq((uint8_t)size[0] | (uint8_t)size[1] << 8, 132);
	ck_assert_uint_eq((uint8_t)size[2] | (uint8_t)size[3] << 8, 43);
	close(ws);
}
END_TEST

/* A tool's ticket opens one session, once; the second use is refused
 * as a wrong proof is; the long-lived token still works beside it. */
START_TEST(test_ticket_opens_one_session_once)
{
	char t[64], answer[128];
	int ws, again;

	session_console(&s, &fe, FE_STYLE_QEMU);
	mint(0, "", t, sizeof(t));
	ck_assert(!log_has(&s, t, 100)); /* never logged */
	ws = spend(t, answer, sizeof(answer));
	ck_assert_str_eq(answer, "ok");
	output_and_input(ws);
	again = spend(t, answer, sizeof(answer));
	ck_assert_str_eq(answer, "1008 proof refused");
	ck_assert(log_has(&s, "wrong ticket; refused", 3000));
	close(again);
	close(ws);
	ws = open_console(); /* the token */
	close(ws);
}
END_TEST

/* A watch-only ticket watches: told so, its typing never reaches the
 * guest, and it is not made the writer when the writer leaves. */
START_TEST(test_watch_ticket_never_types)
{
	char t[64], answer[128], got[16];
	int writer, watcher;

	session_console(&s, &fe, FE_STYLE_QEMU);
	writer = open_console();
	mint(0, "--watch --ttl=2m", t, sizeof(t));
	watcher = spend(t, answer, sizeof(answer));
	ck_assert_str_eq(answer, "ok watch");
	ck_assert(log_has(&s, "connected as the console's watcher", 3000));
	close(writer);
	ck_assert(log_has(&s, "console client disconnected (", 3000));
	send_frame(watcher, 2, "rm -rf\r", 7);
	ck_assert_int_lt(fe_read_rx(&fe, got, sizeof(got), 500), 0);
	ck_assert(!log_has(&s, "a watcher is the writer now", 100));
	close(watcher);
}
END_TEST

/* Control requests the tool may get wrong: no such guest, a TTL over
 * ten minutes; a ticket's text is refused unless it is one. */
START_TEST(test_ticket_requests_refused)
{
	char cmd[512], answer[128];
	int rc, ws;

	snprintf(cmd, sizeof(cmd), "%s ticket --socket-path=%s/vu --guest=7 2>/dev/null",
		 daemon_path(), s.dir);
	rc = system(cmd);
	ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 4);
	snprintf(cmd, sizeof(cmd), "%s ticket --socket-path=%s/vu --guest=0 --ttl=11m 2>/dev/null",
		 daemon_path(), s.dir);
	rc = system(cmd);
	ck_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
	ws = spend("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", answer,
		   sizeof(answer));
	ck_assert_str_eq(answer, "1008 proof refused");
	close(ws);
}
END_TEST

START_TEST(test_wrong_proof_gets_nothing_of_the_console)
{
	char buf[256];
	size_t len;
	int ws, op;

	session_console(&s, &fe, FE_STYLE_QEMU);
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "secret", 6, 6,
				      false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ws = tcp_connect();
	ck_assert_int_eq(upgrade(ws, "127.0.0.1:23720",
				 "http://127.0.0.1:23720"),
			 101);
	ck_assert(prove(ws, NULL));
	send_frame(ws, 2, "typed", 5);
	/* Only a close frame comes. */
	op = recv_frame(ws, buf, sizeof(buf), &len, 5000);
	ck_assert_int_eq(op, 8);
	ck_assert_uint_ge(len, 2);
	ck_assert_uint_eq((uint8_t)buf[0] << 8 | (uint8_t)buf[1], 1008);
	ck_assert_int_lt(fe_read_rx(&fe, buf, sizeof(buf), 300), 0);
	ck_assert(log_has(&s, "wrong proof; refused", 1000));
	close(ws);
}
END_TEST

START_TEST(test_foreign_origin_and_host_refused)
{
	int ws = tcp_connect();

	ck_assert_int_eq(upgrade(ws, "127.0.0.1:23720", "http://evil.example"),
			 403);
	close(ws);
	ws = tcp_connect();
	ck_assert_int_eq(upgrade(ws, "evil.example:23720",
				 "http://evil.example:23720"),
			 403);
	close(ws);
}
END_TEST

START_TEST(test_browser_watches_beside_the_writer)
{
	char got[16];
	int ws;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	ws = open_console();
	ck_assert(log_has(&s, "connected as the console's watcher", 3000));
	tx_and_expect(&s, &fe, "both", 4, 4, false);
	expect_output(ws, "both");
	send_frame(ws, 2, "x", 1);
	ck_assert_int_lt(fe_read_rx(&fe, got, sizeof(got), 300), 0);
	close(ws);
}
END_TEST

START_TEST(test_browser_beyond_max_clients_told_full)
{
	char buf[256];
	size_t len;
	int ws, extra, op;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	ws = open_console(); /* the second of two */
	extra = tcp_connect();
	ck_assert_int_eq(upgrade(extra, "127.0.0.1:23720",
				 "http://127.0.0.1:23720"),
			 101);
	ck_assert(prove(extra, token));
	/* The right proof ("ok"), but no room: a close, no console byte. */
	op = recv_frame(extra, buf, sizeof(buf), &len, 3000);
	if (op == 1) {
		ck_assert_str_eq(buf, "ok");
		op = recv_frame(extra, buf, sizeof(buf), &len, 3000);
	}
	ck_assert_int_eq(op, 8);
	ck_assert_uint_eq((uint8_t)buf[0] << 8 | (uint8_t)buf[1], 1008);
	ck_assert_msg(strstr(buf + 2, "full"), "reason: %s", buf + 2);
	ck_assert(log_has(&s, "the console is full (--max-clients)", 2000));
	tx_and_expect(&s, &fe, "ok", 2, 2, false);
	expect_output(ws, "ok");
	close(extra);
	close(ws);
}
END_TEST

/* count_in_log() - how many times @text is in the daemon's log */
static unsigned int count_in_log(const char *text)
{
	const char *p = daemon_log(&s.d);
	unsigned int n = 0;

	while ((p = strstr(p, text)) != NULL) {
		n++;
		p += strlen(text);
	}
	return n;
}

/* read_all() - what @fd sends until EOF or @timeout_ms, NUL-terminated */
static size_t read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	size_t have = 0;

	while (have < cap - 1 && now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

/* A user not allowed in gets a 403 and nothing else, even knowing the
 * token; the owner still gets in. */
START_TEST(test_other_uid_gets_403_even_with_the_right_proof)
{
	pid_t pid;
	int status, ws;

	if (!as_root())
		return;
	session_console(&s, &fe, FE_STYLE_QEMU);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		static const char req[] =
			"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:23720\r\n"
			"Origin: http://127.0.0.1:23720\r\n"
			"Upgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n";
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(WEB_PORT),
					 .sin_addr.s_addr =
						 htonl(INADDR_LOOPBACK)};
		char buf[4096];
		int fd;

		as_nobody();
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(2);
		if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
			_exit(3);
		read_all(fd, buf, sizeof(buf), 5000);
		/* A 403, then the end: no 101, so no hello, no proof. */
		_exit(strncmp(buf, "HTTP/1.1 403 ", 13) == 0 &&
				      !strstr(buf, " 101 ")
			      ? 0
			      : 4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %#x", status);
	ck_assert(log_has(&s, "uid 65534 is not allowed", 3000));
	ck_assert(
		log_has(&s,
			"client refused on web console 0 (tcp 127.0.0.1:23720)",
			100));
	ws = open_console();
	close(ws);
}
END_TEST

/* A connection that asks for the page every second on keep-alive and
 * never authenticates still ends at its one deadline (10 s from accept):
 * asking again does not buy it more time. */
START_TEST(test_keepalive_requests_do_not_extend_the_preauth_deadline)
{
	static const char req[] =
		"GET /favicon.svg HTTP/1.1\r\nHost: 127.0.0.1:23720\r\n\r\n";
	char buf[8192];
	long t0 = now_ms();
	bool closed = false;
	int fd = tcp_connect();

	while (!closed && now_ms() - t0 < 20000) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long next = now_ms() + 1000;

		if (write(fd, req, sizeof(req) - 1) < 0)
			break;
		while (!closed && now_ms() < next)
			if (poll(&p, 1, 100) == 1)
				closed = read(fd, buf, sizeof(buf)) <= 0;
	}
	ck_assert_msg(closed, "still open after %ld ms", now_ms() - t0);
	ck_assert_int_ge(now_ms() - t0, WEB_PREAUTH_TIMEOUT_MS - 1000);
	ck_assert_int_lt(now_ms() - t0, WEB_PREAUTH_TIMEOUT_MS + 5000);
	ck_assert(log_has(&s, "no proof within the pre-auth deadline", 1000));
	close(fd);
}
END_TEST

/* The 489 KB xterm.js read slowly (16 KiB/s, as over a slow tunnel)
 * through a small window: the answer outlives the 10 s pre-auth deadline,
 * bounded by its progress, and arrives whole. */
START_TEST(test_slow_download_is_bounded_by_progress_not_a_total)
{
	static const char req[] =
		"GET /vendor/xterm.js HTTP/1.1\r\nHost: 127.0.0.1:23720\r\n\r\n";
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(WEB_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char head[2048], buf[2048];
	size_t have = 0, body = 0, want;
	long t0;
	int small = 4096, fd = socket(AF_INET, SOCK_STREAM, 0);
	const char *cl;

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	write_all(fd, req, sizeof(req) - 1);
	while (have < sizeof(head) - 1 &&
	       (have < 4 || memcmp(head + have - 4, "\r\n\r\n", 4) != 0)) {
		ck_assert(read_exact(fd, head + have, 1, 3000));
		have++;
	}
	head[have] = '\0';
	cl = strstr(head, "Content-Length: ");
	ck_assert_ptr_nonnull(cl);
	want = strtoul(cl + 16, NULL, 10);
	ck_assert_uint_gt(want, 400000);
	t0 = now_ms();
	/* 2 KiB every 125 ms, past the pre-auth deadline. */
	while (now_ms() - t0 < WEB_PREAUTH_TIMEOUT_MS + 4000) {
		ssize_t n = read(fd, buf, sizeof(buf));

		ck_assert_msg(n > 0,
			      "the download ended after %zu of %zu bytes, %ld ms",
			      body, want, now_ms() - t0);
		body += (size_t)n;
		sleep_ms(125);
	}
	ck_assert_uint_lt(body, want);
	/* Then the rest at full speed, to the end the daemon makes. */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		body += (size_t)n;
	}
	ck_assert_uint_eq(body, want);
	close(fd);
}
END_TEST

/* A head with bare LF line ends: 400 at once, not after a timeout. */
START_TEST(test_bare_lf_request_gets_400_at_once)
{
	static const char req[] = "GET / HTTP/1.1\nHost: 127.0.0.1:23720\n\n";
	char buf[1024];
	long t0 = now_ms();
	int fd = tcp_connect();

	write_all(fd, req, sizeof(req) - 1);
	read_all(fd, buf, sizeof(buf), 5000);
	ck_assert_msg(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "got: %s", buf);
	/* Far below the 10 s pre-auth deadline. */
	ck_assert_int_lt(now_ms() - t0, 5000);
	close(fd);
}
END_TEST

/* A browser watching beside a writer hears at once that it is the
 * writer when the writer leaves: no console output needed. */
START_TEST(test_promoted_browser_told_at_once)
{
	char buf[512];
	size_t len, have = 0;
	int ws, op;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	ws = open_console();
	ck_assert(log_has(&s, "connected as the console's watcher", 3000));
	close(s.client);
	s.client = -1;
	while (have < 40) {
		op = recv_frame(ws, buf, sizeof(buf), &len, 3000);
		ck_assert_int_eq(op, 2);
		have += len;
		if (strstr(buf, "you are the writer now"))
			break;
	}
	ck_assert_msg(strstr(buf, "you are the writer now"), "got: %s", buf);
	close(ws);
}
END_TEST

/* The daemon stopping says so to every browser: close 1001. */
START_TEST(test_browsers_told_1001_when_the_daemon_stops)
{
	char buf[256];
	size_t len;
	int ws, op;

	session_console(&s, &fe, FE_STYLE_QEMU);
	ws = open_console();
	kill(s.d.pid, SIGTERM);
	do
		op = recv_frame(ws, buf, sizeof(buf), &len, 5000);
	while (op == 2);
	ck_assert_int_eq(op, 8);
	ck_assert_uint_ge(len, 2);
	ck_assert_uint_eq((uint8_t)buf[0] << 8 | (uint8_t)buf[1], 1001);
	close(ws);
}
END_TEST

/* --- another uid, allowed in: it cannot keep the owner out ------------ */

#define FLOOD_CONNS 32

/*
 * flood() - in a child as uid 65534: FLOOD_CONNS kept-alive connections
 * that never authenticate, each asking for the page again every second
 * and reconnected whenever closed, until killed. Writes one byte to @ready
 * once all are open.
 */
static void flood(int ready)
{
	static const char req[] =
		"GET / HTTP/1.1\r\nHost: 127.0.0.1:23720\r\n\r\n";
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(WEB_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct pollfd p[FLOOD_CONNS];
	long next[FLOOD_CONNS] = {0};
	char sink[65536];
	bool told = false;

	as_nobody();
	for (int i = 0; i < FLOOD_CONNS; i++)
		p[i].fd = -1;
	for (;;) {
		long now = now_ms();
		int open = 0;

		for (int i = 0; i < FLOOD_CONNS; i++) {
			if (p[i].fd < 0 && now >= next[i]) {
				p[i].fd = socket(AF_INET, SOCK_STREAM, 0);
				if (p[i].fd >= 0 &&
				    connect(p[i].fd, (struct sockaddr *)&sa,
					    sizeof(sa)) < 0) {
					close(p[i].fd);
					p[i].fd = -1;
				}
				next[i] = now;
			}
			if (p[i].fd >= 0 && now >= next[i]) {
				if (write(p[i].fd, req, sizeof(req) - 1) < 0) {
					close(p[i].fd);
					p[i].fd = -1;
				}
				next[i] = now + 1000;
			}
			p[i].events = POLLIN;
			open += p[i].fd >= 0;
		}
		if (!told && open == FLOOD_CONNS) {
			told = write(ready, "x", 1) == 1;
		}
		poll(p, FLOOD_CONNS, 50);
		for (int i = 0; i < FLOOD_CONNS; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (read(p[i].fd, sink, sizeof(sink)) <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				/* Back soon, not in a busy loop. */
				next[i] = now_ms() + 50;
			}
		}
	}
}

/* try_console() - one try of the owner: true if it got "ok" */
static bool try_console(void)
{
	char buf[256];
	size_t len;
	bool in;
	int fd = tcp_connect();

	in = upgrade(fd, "127.0.0.1:23720", "http://127.0.0.1:23720") == 101 &&
	     prove(fd, token) &&
	     recv_frame(fd, buf, sizeof(buf), &len, 5000) == 1 &&
	     strcmp(buf, "ok") == 0;
	close(fd);
	return in;
}

START_TEST(test_allowed_users_flood_does_not_keep_the_owner_out)
{
	int ready[2], in = 0, status, ws;
	char x;
	pid_t pid;

	if (!as_root())
		return;
	/* A session from before the flood: never pushed out by it. */
	session_console(&s, &fe, FE_STYLE_QEMU);
	ws = open_console();
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		flood(ready[1]);
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &x, 1), 1);
	close(ready[0]);
	/* The flood fills that uid's share: its own oldest make room. */
	ck_assert(log_has(&s, "closed to make room for a new one of uid 65534",
			  10000));
	for (int i = 0; i < 10; i++)
		in += try_console();
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "still here", 10,
				      10, false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	expect_output(ws, "still here");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(ws);
	ck_assert_msg(in >= 9, "the owner got in %d times of 10", in);
}
END_TEST

#define GUESSERS      8
#define GUESS_SECONDS 5

/* recv_frame_quiet() - recv_frame() for a child: no assertions */
static int recv_frame_quiet(int fd, char *buf, size_t cap, size_t *len)
{
	uint8_t h[4];
	size_t n;

	if (!read_exact(fd, h, 2, 1000))
		return -1;
	n = h[1] & 0x7f;
	if (n == 126) {
		if (!read_exact(fd, h + 2, 2, 1000))
			return -1;
		n = (size_t)h[2] << 8 | h[3];
	}
	if (n >= cap || (n && !read_exact(fd, buf, n, 1000)))
		return -1;
	buf[n] = '\0';
	*len = n;
	return h[0] & 0x0f;
}

/*
 * guess() - in a child as uid 65534: for GUESS_SECONDS, connect, take
 * the handshake as far as the server's proof, send a random proof, wait
 * 30 ms for the answer and close, as a guesser that does not wait for the
 * delay would. Writes "ATTEMPTS ANSWERS\n" to @out.
 */
static void guess(int out)
{
	static const char req[] =
		"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:23720\r\n"
		"Origin: http://127.0.0.1:23720\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 13\r\n\r\n";
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(WEB_PORT),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	long end = now_ms() + GUESS_SECONDS * 1000;
	unsigned int attempts = 0, answers = 0;
	char line[64];
	int n;

	as_nobody();
	while (now_ms() < end) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char head[1024];
		size_t have = 0;
		struct pollfd p;

		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
			goto next;
		while (have < sizeof(head) - 1 &&
		       (have < 4 || memcmp(head + have - 4, "\r\n\r\n", 4)) &&
		       read(fd, head + have, 1) == 1)
			have++;
		if (have < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0 ||
		    !prove(fd, NULL))
			goto next;
		attempts++;
		p.fd = fd;
		p.events = POLLIN;
		/* Only a checked proof's refusal tells anything; "too many
		 * tries" is said without looking at the proof. */
		if (poll(&p, 1, 30) == 1 &&
		    recv_frame_quiet(fd, head, sizeof(head), &have) == 8 &&
		    have > 2 && strcmp(head + 2, "proof refused") == 0)
			answers++;
	next:
		close(fd);
	}
	n = snprintf(line, sizeof(line), "%u %u\n", attempts, answers);
	if (write(out, line, (size_t)n) != n)
		_exit(1);
}

/* Guessers in parallel that close early get no more than the documented
 * rate (web_guess.h): no more checks booked than WEB_GUESS_BURST in
 * GUESS_SECONDS, and only the turns within it answered. The owner, whose
 * count is its own, gets in at once meanwhile. */
START_TEST(test_parallel_early_close_guessing_held_to_the_rate)
{
	unsigned int attempts = 0, answers = 0, booked, checked;
	pid_t pids[GUESSERS];
	int out[2], ws;
	FILE *f;

	if (!as_root())
		return;
	ck_assert_int_eq(pipe(out), 0);
	for (int i = 0; i < GUESSERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			close(out[0]);
			guess(out[1]);
			_exit(0);
		}
	}
	close(out[1]);
	ck_assert(log_has(&s, "proof of uid 65534", 5000));
	ws = open_console(); /* while they guess */
	close(ws);
	f = fdopen(out[0], "r");
	for (int i = 0; i < GUESSERS; i++) {
		unsigned int a, n;

		ck_assert_int_eq(fscanf(f, "%u %u", &a, &n), 2);
		attempts += a;
		answers += n;
	}
	fclose(f);
	for (int i = 0; i < GUESSERS; i++)
		waitpid(pids[i], NULL, 0);
	booked = count_in_log("proof of uid 65534, checked");
	checked = count_in_log("wrong proof; refused");
	/* Turns 0, 0.5, 1.5 and 3.5 s fall within 5 s; 7 bookings at most
	 * (the later turns are booked ahead, up to 30 s). */
	ck_assert_msg(attempts >= 20, "only %u guesses sent", attempts);
	ck_assert_msg(booked <= WEB_GUESS_BURST, "%u of %u guesses booked",
		      booked, attempts);
	ck_assert_msg(checked <= 4 && answers <= 4,
		      "%u checked, %u answered of %u guesses in %d s", checked,
		      answers, attempts, GUESS_SECONDS);
}
END_TEST

/* A daemon that cannot start (its web port is taken) leaves no new token
 * file behind. */
START_TEST(test_no_token_file_when_the_start_fails)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(WEB_PORT + 1),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static struct run_result res;
	char dir[64], prefix[96], tok[128];
	const char *args[] = {"-s",
			      prefix,
			      "-b",
			      "uds",
			      "--uds-path",
			      prefix,
			      "--web-port=23721",
			      NULL};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	make_tmpdir(dir, sizeof(dir));
	snprintf(prefix, sizeof(prefix), "%s/vu", dir);
	snprintf(tok, sizeof(tok), "%s.web-token", prefix);
	run_daemon(args, 10000, &res);
	close(fd);
	ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) != 0,
		      "status %#x: %s", res.status, res.err);
	ck_assert_msg(!path_exists(tok), "%s was created", tok);
	remove_tree(dir);
}
END_TEST

/* The proxy's Host and Origin get the console; the tool may frame the
 * page; the loopback address works beside them; others still do not. */
START_TEST(test_proxy_origin_and_tool_frame)
{
	char head[2048];
	size_t have = 0;
	int fd, ws;
	static const char req[] = "GET / HTTP/1.1\r\nHost: vmm.example.com\r\n\r\n";

	fd = tcp_connect();
	write_all(fd, req, sizeof(req) - 1);
	while (have < sizeof(head) - 1 &&
	       (have < 4 || memcmp(head + have - 4, "\r\n\r\n", 4) != 0)) {
		ck_assert(read_exact(fd, head + have, 1, 3000));
		have++;
	}
	head[have] = '\0';
	ck_assert_msg(strncmp(head, "HTTP/1.1 200 ", 13) == 0, "%s", head);
	ck_assert_ptr_nonnull(strstr(head, "frame-ancestors https://tool.example:8443\r\n"));
	ck_assert_ptr_null(strstr(head, "X-Frame-Options"));
	close(fd);
	ws = tcp_connect();
	ck_assert_int_eq(upgrade(ws, "vmm.example.com", "https://vmm.example.com"),
			 101);
	ck_assert(prove(ws, token));
	close(ws);
	ws = open_console();
	close(ws);
	ws = tcp_connect();
	ck_assert_int_eq(upgrade(ws, "vmm.example.com", "https://tool.example:8443"),
			 403);
	close(ws);
}
END_TEST

Suite *web_suite(void)
{
	Suite *su = suite_create("web");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 45);
	tcase_add_test(tc, test_browser_sees_output_and_types);
	tcase_add_test(tc, test_browser_resize_reaches_the_guest);
	tcase_add_test(tc, test_wrong_proof_gets_nothing_of_the_console);
	tcase_add_test(tc, test_ticket_opens_one_session_once);
	tcase_add_test(tc, test_watch_ticket_never_types);
	tcase_add_test(tc, test_ticket_requests_refused);
	tcase_add_test(tc, test_foreign_origin_and_host_refused);
	tcase_add_test(tc, test_browser_watches_beside_the_writer);
	tcase_add_test(tc, test_browser_beyond_max_clients_told_full);
	tcase_add_test(tc, test_other_uid_gets_403_even_with_the_right_proof);
	tcase_add_test(tc, test_bare_lf_request_gets_400_at_once);
	tcase_add_test(tc,
		       test_keepalive_requests_do_not_extend_the_preauth_deadline);
	tcase_add_test(tc,
		       test_slow_download_is_bounded_by_progress_not_a_total);
	tcase_add_test(tc, test_promoted_browser_told_at_once);
	tcase_add_test(tc, test_browsers_told_1001_when_the_daemon_stops);
	suite_add_tcase(su, tc);
	tc = tcase_create("other_uid");
	tcase_add_checked_fixture(tc, setup_allowed, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       test_allowed_users_flood_does_not_keep_the_owner_out);
	tcase_add_test(tc, test_parallel_early_close_guessing_held_to_the_rate);
	suite_add_tcase(su, tc);
	tc = tcase_create("proxied");
	tcase_add_checked_fixture(tc, setup_proxied, teardown);
	tcase_set_timeout(tc, 45);
	tcase_add_test(tc, test_proxy_origin_and_tool_frame);
	suite_add_tcase(su, tc);
	tc = tcase_create("start");
	tcase_add_test(tc, test_no_token_file_when_the_start_fails);
	suite_add_tcase(su, tc);
	return su;
}
