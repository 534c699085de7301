/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_console.c - the virtio-console device and its backends, driven by
 * the test frontend as Linux's driver drives it: the control flow, the
 * bounded output buffer, input back-pressure, one client at a time, and a
 * console that outlives clients and frontends.
 */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

SESSION_FIXTURE(NULL)

static void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Reap used tx entries until none is in flight (or time runs out). */
static void reap_tx(struct fe *f)
{
	long deadline = wait_deadline(5000);
	uint16_t id;
	uint32_t len;

	while (fe_ring_free(f, CONSOLE_QUEUE_TX) < f->cfg.queue_size) {
		if (fe_get_used(f, CONSOLE_QUEUE_TX, &id, &len) == 1) {
			deadline = wait_deadline(5000); /* progress */
		} else {
			ck_assert_msg(now_ms() < deadline,
				      "tx never completed; log:\n%s",
				      daemon_log(&s.d));
			fe_wait_call(f, CONSOLE_QUEUE_TX, 20);
		}
	}
}

/* Send @len bytes of guest output in chains of @chunk. */
static void guest_write(struct fe *f, const uint8_t *p, size_t len,
			size_t chunk)
{
	while (len) {
		size_t k = len < chunk ? len : chunk;

		if (fe_ring_free(f, CONSOLE_QUEUE_TX) == 0)
			reap_tx(f);
		ck_assert_int_eq(fe_submit_tx(f, CONSOLE_QUEUE_TX, p, k,
					      (uint32_t)k, false),
				 0);
		fe_publish(f, CONSOLE_QUEUE_TX);
		p += k;
		len -= k;
	}
	reap_tx(f);
}

START_TEST(test_uds_socket_is_private)
{
	struct stat st;

	ck_assert_int_eq(stat(s.uds_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_port_name_and_control_order)
{
	char name[64];

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	ck_assert_msg(fe_console_handshake(&fe, name, sizeof(name)) == 0, "%s",
		      fe.err);
	ck_assert_str_eq(name, "vhost-device-console.0");
	ck_assert(log_has(&s, "guest opened the console", 2000));
}
END_TEST

START_TEST(test_control_messages_wait_for_short_buffers)
{
	struct virtio_console_control m;
	char extra[64];
	uint16_t expect[] = {VIRTIO_CONSOLE_CONSOLE_PORT,
			     VIRTIO_CONSOLE_PORT_NAME,
			     VIRTIO_CONSOLE_PORT_OPEN};

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	/* One control buffer at a time: three replies must queue up. */
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 1, 4096), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0xffffffffu,
				      VIRTIO_CONSOLE_DEVICE_READY, 1),
			 0);
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_DEVICE_ADD);
	ck_assert_uint_eq(m.id, 0);
	/* fe_ctrl_recv() posted the buffer again: just one for three. */
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY, 1), 0);
	for (int i = 0; i < 3; i++) {
		size_t elen = 0;

		ck_assert_msg(fe_ctrl_recv(&fe, &m, extra, sizeof(extra), &elen,
					   3000) == 0,
			      "message %d: %s", i, fe.err);
		ck_assert_uint_eq(m.event, expect[i]);
		ck_assert_uint_eq(m.id, 0);
		if (m.event == VIRTIO_CONSOLE_PORT_NAME)
			ck_assert_uint_eq(elen,
					  strlen("vhost-device-console.0"));
		else
			ck_assert_uint_eq(m.value, 1);
	}
}
END_TEST

START_TEST(test_short_control_buffers)
{
	struct virtio_console_control m;
	char name[64];
	size_t len = 0;
	uint16_t id;
	uint32_t used_len = 1;
	long deadline = wait_deadline(3000);

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	/* Too short for a header: the event is lost, the buffer comes back
	 * empty. */
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 1, 4), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0xffffffffu,
				      VIRTIO_CONSOLE_DEVICE_READY, 1),
			 0);
	while (fe_get_used(&fe, CONSOLE_QUEUE_CTRL_RX, &id, &used_len) == 0) {
		ck_assert(now_ms() < deadline);
		fe_wait_call(&fe, CONSOLE_QUEUE_CTRL_RX, 20);
	}
	ck_assert_uint_eq(used_len, 0);
	ck_assert(log_has(&s, "control buffer of 4 bytes cannot hold event 1",
			  2000));

	/* Room for a header and 4 bytes of the name: the name is cut. */
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 1, 4096), 0);
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 1, 12), 0);
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 1, 4096), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY, 1), 0);
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_CONSOLE_PORT);
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, name, sizeof(name), &len, 3000),
			 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_PORT_NAME);
	ck_assert_uint_eq(len, 4);
	ck_assert_str_eq(name, "vhos");
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_PORT_OPEN);
	ck_assert(log_has(&s, "event 7's payload cut to fit", 2000));
}
END_TEST

/*
 * A driver that repeats PORT_READY and posts no buffers: one message per
 * event waits, in the order first sent; nothing piles up.
 */
START_TEST(test_control_queue_bounded_and_ordered)
{
	static const uint16_t order[] = {VIRTIO_CONSOLE_CONSOLE_PORT,
					 VIRTIO_CONSOLE_PORT_NAME,
					 VIRTIO_CONSOLE_PORT_OPEN};
	struct virtio_console_control m;

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY,
					      1),
				 0);
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 64, 1024), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	fe_kick(&fe, CONSOLE_QUEUE_CTRL_RX);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
		ck_assert_uint_eq(m.event, order[i]);
	}
	ck_assert_int_lt(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 300), 0);
	ck_assert(!log_has(&s, "dropped", 0));
}
END_TEST

START_TEST(test_guest_failures_and_unknown_events_logged)
{
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 8, 4096), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_DEVICE_READY, 0),
			 0);
	ck_assert(
		log_has(&s, "guest driver failed to set up the device", 2000));
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY, 0), 0);
	ck_assert(log_has(&s, "guest failed to set up port 0 (PORT_READY 0)", 2000));
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, 42, 7), 0);
	ck_assert(log_has(&s, "unknown control event 42 (port 0, value 7)",
			  2000));
	ck_assert_int_eq(fe_ctrl_send(&fe, 5, VIRTIO_CONSOLE_PORT_READY, 1), 0);
	ck_assert(log_has(&s, "control event 3 for port 5, which was never added", 2000));
	/* Still a working device afterwards. */
	ck_assert_int_eq(fe_ctrl_send(&fe, 0xffffffffu,
				      VIRTIO_CONSOLE_DEVICE_READY, 1),
			 0);
}
END_TEST

START_TEST(test_arbitrary_bytes_in_order)
{
	static uint8_t data[256 * 1024], got[sizeof(data)];
	int c;

	session_console(&s, &fe, FE_STYLE_QEMU);
	c = session_client(&s);
	fill_pattern(data, sizeof(data), 1);
	guest_write(&fe, data, sizeof(data), 3000);
	ck_assert(read_exact(c, got, sizeof(got), 5000));
	ck_assert(memcmp(data, got, sizeof(data)) == 0);
}
END_TEST

START_TEST(test_output_before_client_is_kept_for_it)
{
	char got[64];

	session_console(&s, &fe, FE_STYLE_QEMU);
	guest_write(&fe, (const uint8_t *)"boot log\nlogin: ", 16, 4096);
	ck_assert_int_eq(s.client, -1);
	ck_assert(read_exact(session_client(&s), got, 16, 3000));
	ck_assert(memcmp(got, "boot log\nlogin: ", 16) == 0);
}
END_TEST

START_TEST(test_bounded_buffer_keeps_newest_and_counts_drops)
{
	struct session small;
	const char *extra[] = {"--output-buffer=4K", NULL};
	static uint8_t data[10000];
	uint8_t got[4096], more;

	teardown();
	session_start(&small, extra);
	s = small;
	session_console(&s, &fe, FE_STYLE_QEMU);
	fill_pattern(data, sizeof(data), 2);
	/* Every chain completes though nobody reads. */
	guest_write(&fe, data, sizeof(data), 1000);
	ck_assert(read_exact(session_client(&s), got, sizeof(got), 3000));
	ck_assert(memcmp(got, data + sizeof(data) - 4096, 4096) == 0);
	ck_assert(!read_exact(s.client, &more, 1, 200));
	ck_assert(log_has(&s, "5904 bytes of older guest output were dropped",
			  2000));
}
END_TEST

START_TEST(test_stuck_client_never_stalls_the_guest)
{
	static uint8_t data[4 << 20];
	int c, small = 4096;

	session_console(&s, &fe, FE_STYLE_QEMU);
	c = session_client(&s);
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fill_pattern(data, sizeof(data), 3);
	/* 4 MiB into a client that reads nothing: all chains come back. */
	guest_write(&fe, data, sizeof(data), 4096);
	ck_assert(log_has(&s, "console client is slow: dropped the oldest",
			  3000));
}
END_TEST

START_TEST(test_input_waits_for_guest_buffers)
{
	static uint8_t data[1 << 20], got[sizeof(data)];
	size_t have = 0;
	int c;

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	c = session_client(&s);
	fill_pattern(data, sizeof(data), 4);
	/* Typed before the guest opened the port: held, not dropped. */
	write_all(c, data, 1000);
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	/* The rest from another process: it blocks until the guest reads. */
	if (fork() == 0) {
		write_all(c, data + 1000, sizeof(data) - 1000);
		_exit(0);
	}
	while (have < sizeof(data)) {
		int n = fe_read_rx(&fe, got + have, sizeof(got) - have, 5000);

		ck_assert_msg(n > 0, "stuck at %zu: %s; log:\n%s", have, fe.err,
			      daemon_log(&s.d));
		have += (size_t)n;
	}
	ck_assert(memcmp(got, data, sizeof(data)) == 0);
}
END_TEST

START_TEST(test_input_sent_before_hangup_reaches_guest)
{
	char got[16];
	long before;
	int c;

	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	c = session_client(&s);
	write_all(c, "bye", 3);
	close(c);
	s.client = -1;
	/* The hung-up client must not keep the worker busy meanwhile. */
	before = cpu_ticks(s.worker);
	sleep_ms(500);
	ck_assert_int_le(cpu_ticks(s.worker) - before, 5);
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 3);
	ck_assert(memcmp(got, "bye", 3) == 0);
	ck_assert(log_has(&s, "console client disconnected", 2000));
}
END_TEST

START_TEST(test_half_closed_client_with_pending_output_is_dropped)
{
	static uint8_t data[800 * 1024];
	int c, small = 4096;
	long before;

	session_console(&s, &fe, FE_STYLE_QEMU);
	c = session_client(&s);
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	guest_write(&fe, data, sizeof(data), 4096);
	ck_assert_int_eq(shutdown(c, SHUT_WR), 0);
	ck_assert(log_has(&s, "console client disconnected (hung up)", 3000));
	before = cpu_ticks(s.worker);
	sleep_ms(500);
	ck_assert_int_le(cpu_ticks(s.worker) - before, 5);
}
END_TEST

START_TEST(test_log_lines_are_rate_limited)
{
	session_console(&s, &fe, FE_STYLE_QEMU);
	/* A guest can cause log lines at will. */
	for (int i = 0; i < 400; i++)
		ck_assert_int_eq(fe_ctrl_send(&fe, 0, 99, (uint16_t)i), 0);
	sleep_ms(1100);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, 99, 0), 0);
	ck_assert_msg(log_has(&s, "log lines were suppressed", 3000),
		      "log:\n%s", daemon_log(&s.d));
}
END_TEST

START_TEST(test_client_reconnects)
{
	char in[16];

	session_console(&s, &fe, FE_STYLE_QEMU);
	for (int i = 0; i < 5; i++) {
		tx_and_expect(&s, &fe, "hello", 5, 5, false);
		write_all(s.client, "in", 2);
		ck_assert_int_eq(fe_read_rx(&fe, in, sizeof(in), 3000), 2);
		close(s.client);
		s.client = -1;
		sleep_ms(20);
	}
}
END_TEST

START_TEST(test_console_survives_frontend)
{
	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	tx_and_expect(&s, &fe, "vm one", 6, 6, false);
	fe_close(&fe);
	ck_assert(log_has(&s, "frontend disconnected", 2000));
	session_console(&s, &fe, FE_STYLE_UML);
	tx_and_expect(&s, &fe, "vm two", 6, 6, false);
}
END_TEST

START_TEST(test_network_backend)
{
	struct session n;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(23610),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	const char *args[] = {"-s", NULL, "-b", "network", "-p", "23610", NULL};
	char path[96], got[8], busy[128] = {0};
	int c, c2;

	teardown();
	memset(&n, 0, sizeof(n));
	make_tmpdir(n.dir, sizeof(n.dir));
	snprintf(path, sizeof(path), "%s/vu", n.dir);
	snprintf(n.vu_path, sizeof(n.vu_path), "%s0", path);
	args[1] = path;
	daemon_start(&n.d, n.dir, args);
	n.client = -1;
	s = n;
	ck_assert(wait_for_child(s.d.pid, "vdc-worker-0", 0, 5000));
	/* Listening from start-up, before any frontend. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s.client = c;
	session_console(&s, &fe, FE_STYLE_QEMU);
	tx_and_expect(&s, &fe, "tcp!", 4, 4, false);
	write_all(c, "up", 2);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 2);
	/* A second TCP client watches: it sees the same output. */
	c2 = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c2, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert(log_has(&s, "console watcher connected", 3000));
	tx_and_expect(&s, &fe, "both", 4, 4, false);
	ck_assert(read_exact(c2, busy, 4, 3000));
	ck_assert(memcmp(busy, "both", 4) == 0);
	close(c2);
}
END_TEST

Suite *console_suite(void)
{
	Suite *su = suite_create("console");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_uds_socket_is_private);
	tcase_add_test(tc, test_port_name_and_control_order);
	tcase_add_test(tc, test_control_messages_wait_for_short_buffers);
	tcase_add_test(tc, test_short_control_buffers);
	tcase_add_test(tc, test_control_queue_bounded_and_ordered);
	tcase_add_test(tc, test_guest_failures_and_unknown_events_logged);
	tcase_add_test(tc, test_arbitrary_bytes_in_order);
	tcase_add_test(tc, test_output_before_client_is_kept_for_it);
	tcase_add_test(tc, test_bounded_buffer_keeps_newest_and_counts_drops);
	tcase_add_test(tc, test_stuck_client_never_stalls_the_guest);
	tcase_add_test(tc, test_input_waits_for_guest_buffers);
	tcase_add_test(tc, test_input_sent_before_hangup_reaches_guest);
	tcase_add_test(tc,
		       test_half_closed_client_with_pending_output_is_dropped);
	tcase_add_test(tc, test_log_lines_are_rate_limited);
	tcase_add_test(tc, test_client_reconnects);
	tcase_add_test(tc, test_console_survives_frontend);
	tcase_add_test(tc, test_network_backend);
	suite_add_tcase(su, tc);
	return su;
}
