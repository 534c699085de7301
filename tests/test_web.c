/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web.c - the web console in the daemon (--web-port), driven by a
 * small WebSocket client: the token first, then console output and input
 * both ways and resizes; a wrong token gets no byte of the console; a
 * foreign Origin or Host gets no WebSocket at all.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

#define WEB_PORT 23720

static struct session s;
static struct fe fe;
static char token[128];

static void setup(void)
{
	static const char *const extra[] = {"--web-port=23720",
					    "--max-clients=2", NULL};
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

static void teardown(void)
{
	fe_close(&fe);
	session_stop(&s);
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

/* One server frame: its opcode, its payload in @buf (NUL-terminated). */
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

static int open_console(void)
{
	char buf[256];
	size_t len;
	int fd = tcp_connect();

	ck_assert_int_eq(upgrade(fd, "127.0.0.1:23720", "http://127.0.0.1:23720"),
			 101);
	send_frame(fd, 1, token, strlen(token));
	ck_assert_int_eq(recv_frame(fd, buf, sizeof(buf), &len, 3000), 1);
	ck_assert_str_eq(buf, "ok");
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

START_TEST(test_browser_sees_output_and_types)
{
	char got[16];
	int ws;

	session_console(&s, &fe, FE_STYLE_QEMU);
	ws = open_console();
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "login: ", 7, 7,
				      false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	expect_output(ws, "login: ");
	send_frame(ws, 2, "root\r", 5);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 5);
	ck_assert(memcmp(got, "root\r", 5) == 0);
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

START_TEST(test_wrong_token_gets_nothing_of_the_console)
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
	ck_assert_int_eq(upgrade(ws, "127.0.0.1:23720", "http://127.0.0.1:23720"),
			 101);
	send_frame(ws, 1, "0123456789abcdef0123456789abcdef", 32);
	send_frame(ws, 2, "typed", 5);
	/* Only a close frame comes, after the delay. */
	op = recv_frame(ws, buf, sizeof(buf), &len, 5000);
	ck_assert_int_eq(op, 8);
	ck_assert_uint_ge(len, 2);
	ck_assert_uint_eq((uint8_t)buf[0] << 8 | (uint8_t)buf[1], 1008);
	ck_assert_int_lt(fe_read_rx(&fe, buf, sizeof(buf), 300), 0);
	ck_assert(log_has(&s, "127.0.0.1:", 1000));
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
	send_frame(extra, 1, token, strlen(token));
	/* The right token ("ok"), but no room: a close, no console byte. */
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

Suite *web_suite(void)
{
	Suite *su = suite_create("web");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_browser_sees_output_and_types);
	tcase_add_test(tc, test_browser_resize_reaches_the_guest);
	tcase_add_test(tc, test_wrong_token_gets_nothing_of_the_console);
	tcase_add_test(tc, test_foreign_origin_and_host_refused);
	tcase_add_test(tc, test_browser_watches_beside_the_writer);
	tcase_add_test(tc, test_browser_beyond_max_clients_told_full);
	suite_add_tcase(su, tc);
	return su;
}
