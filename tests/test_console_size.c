/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_console_size.c - the guest knows the console's size, and may write
 * in an emergency: VIRTIO_CONSOLE_F_SIZE offered only with a size, RESIZE
 * after CONSOLE_PORT in either field order, a new RESIZE when the nested
 * terminal is resized, the config space and a config change notification
 * on the back-end channel without MULTIPORT, that channel's answers and
 * failures, and emerg_wr as guest output.
 */
#include <check.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

#define F(bit)	     (1ull << (bit))
#define NO_MULTIPORT (~F(VIRTIO_CONSOLE_F_MULTIPORT))
#define NO_SIZE	     (~F(VIRTIO_CONSOLE_F_SIZE))

SESSION_FIXTURE(NULL)
static int master = -1, slave = -1;

static void start(const char *const extra[])
{
	session_start(&s, extra);
}

/* What GET_FEATURES says, on a connection of its own. */
static uint64_t features_offered(void)
{
	struct fe probe;
	uint64_t f = 0;

	session_frontend(&s, &probe, FE_STYLE_QEMU, false);
	ck_assert_int_eq(fe_get_u64(&probe, VHOST_USER_GET_FEATURES, &f), 0);
	fe_close(&probe);
	return f;
}

/* A frontend that accepts @want of what is offered (0: everything). */
static void frontend(enum fe_style style, uint64_t want, bool backend_req)
{
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = style,
				.features = want,
				.no_backend_req = !backend_req};

	ck_assert_msg(fe_open(&fe, &cfg) == 0, "%s", fe.err);
	ck_assert_msg(fe_negotiate(&fe) == 0, "negotiate: %s\nlog:\n%s", fe.err,
		      daemon_log(&s.d));
}

/* The next control message is a RESIZE of port 0 carrying @a then @b. */
static void expect_resize(uint16_t a, uint16_t b)
{
	struct virtio_console_control m;
	char extra[64];
	size_t len = 0;
	uint8_t *p = (uint8_t *)extra;

	ck_assert_msg(fe_ctrl_recv(&fe, &m, extra, sizeof(extra), &len, 3000) ==
			      0,
		      "no RESIZE: %s\nlog:\n%s", fe.err, daemon_log(&s.d));
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_RESIZE);
	ck_assert_uint_eq(m.id, 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(p[0] | p[1] << 8, a);
	ck_assert_uint_eq(p[2] | p[3] << 8, b);
}

static void expect_no_control_message(int ms)
{
	struct virtio_console_control m = {0};

	ck_assert_msg(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, ms) < 0,
		      "unexpected control event %u", m.event);
}

static void expect_config_size(uint16_t cols, uint16_t rows)
{
	uint8_t cfg[12];

	ck_assert_int_eq(fe_get_config(&fe, 0, sizeof(cfg), cfg), 0);
	ck_assert_uint_eq(cfg[0] | cfg[1] << 8, cols);
	ck_assert_uint_eq(cfg[2] | cfg[3] << 8, rows);
	ck_assert_uint_eq(cfg[4], 1);
}

/* The next request on the back-end channel is a config change. */
static void expect_config_change(struct vhost_user_header *h)
{
	ck_assert_msg(fe_backend_recv(&fe, h, 3000) == 0, "%s\nlog:\n%s",
		      fe.err, daemon_log(&s.d));
	ck_assert_uint_eq(h->request, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG);
	ck_assert_uint_eq(h->size, 0);
}

static bool channel_quiet(int ms)
{
	struct vhost_user_header h;

	return fe_backend_recv(&fe, &h, ms) < 0;
}

/* --- which features ------------------------------------------------- */

START_TEST(test_size_offered_only_with_a_size)
{
	const char *sized[] = {"--console-size=100x30", NULL};
	uint64_t base =
		F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_NOTIFY_ON_EMPTY) |
		F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |
		F(VHOST_USER_F_PROTOCOL_FEATURES) |
		F(VIRTIO_CONSOLE_F_MULTIPORT) | F(VIRTIO_CONSOLE_F_EMERG_WRITE);

	start(NULL);
	ck_assert_uint_eq(features_offered(), base);
	session_stop(&s);
	start(sized);
	ck_assert_uint_eq(features_offered(), base | F(VIRTIO_CONSOLE_F_SIZE));
	ck_assert_uint_eq(base | F(VIRTIO_CONSOLE_F_SIZE), 0x171000007ull);
}
END_TEST

/* --- MULTIPORT: RESIZE ---------------------------------------------- */

START_TEST(test_resize_after_console_port_in_spec_order)
{
	const char *a[] = {"--console-size=132x43", NULL};

	start(a);
	session_console(&s, &fe, FE_STYLE_QEMU);
	ck_assert(fe.acked & F(VIRTIO_CONSOLE_F_SIZE));
	/* CONSOLE_PORT, PORT_NAME, PORT_OPEN (the handshake), then: */
	expect_resize(132, 43);
	expect_no_control_message(200);
	/* The config space says the same. */
	expect_config_size(132, 43);
}
END_TEST

START_TEST(test_resize_rows_first_for_older_guests)
{
	const char *a[] = {"--console-size=132x43",
			   "--console-size-order=rows-first", NULL};

	start(a);
	session_console(&s, &fe, FE_STYLE_UML);
	expect_resize(43, 132);
	/* The config space has named fields: always cols, then rows. */
	expect_config_size(132, 43);
}
END_TEST

START_TEST(test_no_resize_unless_size_negotiated)
{
	const char *a[] = {"--console-size=132x43", NULL};

	start(a);
	frontend(FE_STYLE_QEMU, NO_SIZE, true);
	ck_assert(!(fe.acked & F(VIRTIO_CONSOLE_F_SIZE)));
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	expect_no_control_message(300);
}
END_TEST

START_TEST(test_no_resize_without_a_size)
{
	start(NULL);
	session_console(&s, &fe, FE_STYLE_QEMU);
	ck_assert(!(fe.acked & F(VIRTIO_CONSOLE_F_SIZE)));
	expect_no_control_message(300);
	ck_assert(channel_quiet(100));
}
END_TEST

START_TEST(test_resize_again_for_each_port_ready)
{
	const char *a[] = {"--console-size=80x25", NULL};

	start(a);
	session_console(&s, &fe, FE_STYLE_QEMU);
	expect_resize(80, 25);
	/* A guest driver that sets the port up again hears the size again. */
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY, 1), 0);
	for (int i = 0; i < 3; i++) {
		struct virtio_console_control m;

		ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
	}
	expect_resize(80, 25);
}
END_TEST

/* --- without MULTIPORT: config space and the back-end channel ------- */

START_TEST(test_no_multiport_config_change_on_backend_channel)
{
	const char *a[] = {"--console-size=90x33", NULL};
	struct vhost_user_header h;
	char got[16];

	start(a);
	frontend(FE_STYLE_QEMU, NO_MULTIPORT, true);
	ck_assert(!(fe.acked & F(VIRTIO_CONSOLE_F_MULTIPORT)));
	ck_assert(fe.acked & F(VIRTIO_CONSOLE_F_SIZE));
	ck_assert_int_ge(fe.chan_fd, 0);
	/* Announced as soon as the driver's features are set. */
	expect_config_change(&h);
	/* REPLY_ACK is negotiated: the daemon asks for an answer. */
	ck_assert_uint_eq(h.flags,
			  VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 0), 0);
	ck_assert(log_has(&s, "the frontend took the config change", 2000));
	expect_config_size(90, 33);
	/* The session goes on; no RESIZE without a control queue. */
	tx_and_expect(&s, &fe, "legacy", 6, 6, false);
	/* Port 0 is open from the start: typed input reaches the driver. */
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_RX, 8, 4096), 0);
	fe_publish(&fe, CONSOLE_QUEUE_RX);
	write_all(session_client(&s), "typed", 5);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 5);
	ck_assert(memcmp(got, "typed", 5) == 0);
}
END_TEST

START_TEST(test_no_multiport_uml_channel)
{
	const char *a[] = {"--console-size=90x33", NULL};
	struct vhost_user_header h;

	start(a);
	frontend(FE_STYLE_UML, NO_MULTIPORT, true);
	expect_config_change(&h);
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 0), 0);
	expect_config_size(90, 33);
}
END_TEST

START_TEST(test_no_multiport_without_channel_gets_no_notification)
{
	const char *a[] = {"--console-size=90x33", NULL};

	start(a);
	frontend(FE_STYLE_QEMU, NO_MULTIPORT, false);
	ck_assert_int_eq(fe.chan_fd, -1);
	ck_assert(
		!(fe.protocol_features & F(VHOST_USER_PROTOCOL_F_BACKEND_REQ)));
	ck_assert(log_has(&s, "no config change notification possible", 2000));
	/* The size is in the config space all the same. */
	expect_config_size(90, 33);
	tx_and_expect(&s, &fe, "still fine", 10, 10, false);
}
END_TEST

START_TEST(test_multiport_sends_no_config_change)
{
	const char *a[] = {"--console-size=90x33", NULL};

	start(a);
	session_console(&s, &fe, FE_STYLE_QEMU);
	ck_assert_int_ge(fe.chan_fd, 0);
	expect_resize(90, 33);
	ck_assert(channel_quiet(300));
}
END_TEST

/* --- the back-end channel is not trusted ---------------------------- */

/* Another config change: the driver sets its features again. */
static void provoke_config_change(struct vhost_user_header *h)
{
	ck_assert_int_eq(fe_set_u64(&fe, VHOST_USER_SET_FEATURES, fe.acked), 0);
	expect_config_change(h);
}

START_TEST(test_channel_answers_checked)
{
	const char *a[] = {"--console-size=90x33", NULL};
	struct vhost_user_header h;
	uint64_t f;

	start(a);
	frontend(FE_STYLE_QEMU, NO_MULTIPORT, true);
	expect_config_change(&h);
	/* A failure answer is logged; the channel stays. */
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 1), 0);
	ck_assert(log_has(&s, "the frontend answered 1 (failure)", 2000));
	provoke_config_change(&h);
	/* An answer to another request: malformed, the channel goes. */
	h.request = VHOST_USER_BACKEND_IOTLB_MSG;
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 0), 0);
	ck_assert(log_has(&s, "malformed answer from the frontend", 2000));
	ck_assert(channel_quiet(300)); /* closed: recv sees the end */
	ck_assert_ptr_nonnull(strstr(fe.err, "closed by the daemon"));
	/* The session goes on without it. */
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &f), 0);
	ck_assert_int_eq(fe_set_u64(&fe, VHOST_USER_SET_FEATURES, fe.acked), 0);
	ck_assert(log_has(&s, "no config change notification possible", 2000));
}
END_TEST

START_TEST(test_channel_unasked_message_and_hangup)
{
	const char *a[] = {"--console-size=90x33", NULL};
	struct vhost_user_header h = {VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0,
				      0};
	uint64_t f;

	start(a);
	frontend(FE_STYLE_QEMU, 0, true);
	/* MULTIPORT: nothing was asked, so an answer is unasked for. */
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 0), 0);
	ck_assert(log_has(&s, "a message nobody asked for", 2000));
	fe_close(&fe);

	frontend(FE_STYLE_QEMU, NO_MULTIPORT, true);
	expect_config_change(&h);
	close(fe.chan_fd);
	fe.chan_fd = -1;
	ck_assert(
		log_has(&s, "back-end channel: closed by the frontend", 2000));
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_FEATURES, &f), 0);
}
END_TEST

START_TEST(test_set_backend_req_fd_refusals)
{
	struct fe_config cfg = {.socket_path = NULL, .style = FE_STYLE_QEMU};
	int p[2];

	start(NULL);
	cfg.socket_path = s.vu_path;
	/* Not negotiated: refused. */
	cfg.no_backend_req = true;
	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_int_eq(fe_negotiate(&fe), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0,
				    &p[1], 1, NULL, 0),
			 -1);
	ck_assert(
		log_has(&s,
			"VHOST_USER_PROTOCOL_F_BACKEND_REQ was not negotiated",
			2000));
	fe_close(&fe);

	/* Negotiated, but a pipe is no channel. */
	cfg.no_backend_req = false;
	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_int_eq(fe_negotiate(&fe), 0);
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0,
				    &p[1], 1, NULL, 0),
			 -1);
	ck_assert(log_has(&s, "SET_BACKEND_REQ_FD: the fd is not a socket",
			  2000));
	close(p[0]);
	close(p[1]);
}
END_TEST

/* --- emergency write ------------------------------------------------ */

static void emerg_write(uint8_t byte)
{
	uint8_t word[4] = {byte, 0x11, 0x22, 0x33};

	ck_assert_msg(fe_set_config(&fe, 8, 4, word) == 0, "%s\nlog:\n%s",
		      fe.err, daemon_log(&s.d));
}

START_TEST(test_emergency_write_before_the_driver_is_ready)
{
	char got[8];

	start(NULL);
	ck_assert(features_offered() & F(VIRTIO_CONSOLE_F_EMERG_WRITE));
	/* Negotiated, but no DEVICE_READY yet: it works all the same. */
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	session_client(&s);
	emerg_write('!');
	ck_assert(read_exact(s.client, got, 1, 3000));
	ck_assert_int_eq(got[0], '!');
	/* And after, in order with ordinary output. */
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	tx_and_expect(&s, &fe, "ab", 2, 2, false);
	emerg_write('c');
	ck_assert(read_exact(s.client, got, 1, 3000));
	ck_assert_int_eq(got[0], 'c');
	tx_and_expect(&s, &fe, "d", 1, 1, false);
}
END_TEST

START_TEST(test_emergency_write_kept_for_a_late_client)
{
	char got[4];

	start(NULL);
	session_frontend(&s, &fe, FE_STYLE_UML, true);
	emerg_write('o');
	emerg_write('k');
	ck_assert(read_exact(session_client(&s), got, 2, 3000));
	ck_assert(memcmp(got, "ok", 2) == 0);
}
END_TEST

START_TEST(test_emergency_write_as_qemu_writes_it)
{
	uint8_t cfg[12];
	char got[2];

	start(NULL);
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	session_client(&s);
	/* vhost-user-base writes back all it read, emerg_wr changed. */
	ck_assert_int_eq(fe_get_config(&fe, 0, sizeof(cfg), cfg), 0);
	cfg[8] = 'q';
	ck_assert_int_eq(fe_set_config(&fe, 0, sizeof(cfg), cfg), 0);
	ck_assert(read_exact(s.client, got, 1, 3000));
	ck_assert_int_eq(got[0], 'q');
	/* With a read-only field changed it is refused, and nothing comes. */
	cfg[0]++;
	cfg[8] = 'x';
	ck_assert_int_eq(fe_set_config(&fe, 0, sizeof(cfg), cfg), -1);
	ck_assert(log_has(&s, "SET_CONFIG: offset 0 size 12 refused", 2000));
	ck_assert(!read_exact(s.client, got, 1, 200));
}
END_TEST

START_TEST(test_config_writes_outside_emerg_wr_refused)
{
	static const struct {
		uint32_t offset, size;
	} bad[] = {
		{0, 2}, /* cols */
		{2, 2}, /* rows */
		{4, 4}, /* max_nr_ports */
		{0, 12}, /* everything */
		{8, 1}, /* part of emerg_wr */
		{6, 4}, /* across max_nr_ports and emerg_wr */
		{10, 2},
	};
	uint8_t zero[12] = {0}, got;
	char line[96];

	start(NULL);
	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(fe_set_config(&fe, bad[i].offset, bad[i].size,
					       zero),
				 -1);
		snprintf(line, sizeof(line),
			 "SET_CONFIG: offset %u size %u refused: only emerg_wr",
			 bad[i].offset, bad[i].size);
		ck_assert_msg(log_has(&s, line, 2000), "no '%s' in:\n%s", line,
			      daemon_log(&s.d));
	}
	/* Nothing reached the client; the config space is unchanged. */
	ck_assert(!read_exact(s.client, &got, 1, 200));
	expect_config_size(20, 20);
}
END_TEST

/* --- the nested backend: this terminal's size, and SIGWINCH --------- */

static void nested_start(uint16_t cols, uint16_t rows)
{
	struct winsize ws = {.ws_row = rows, .ws_col = cols};

	session_start_nested(&s, &master, &slave, cols ? &ws : NULL, NULL);
}

static void nested_teardown(void)
{
	int status;

	fe_close(&fe);
	status = daemon_stop(&s.d, SIGTERM, 5000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %#x; log:\n%s", status, daemon_log(&s.d));
	ck_assert_msg(!strstr(daemon_log(&s.d), "Sanitizer"), "log:\n%s",
		      daemon_log(&s.d));
	close(master);
	close(slave);
	master = slave = -1;
	remove_tree(s.dir);
}

static void resize_terminal(uint16_t cols, uint16_t rows)
{
	struct winsize ws = {.ws_row = rows, .ws_col = cols};

	/* The kernel sends SIGWINCH to the terminal's foreground group. */
	ck_assert_int_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
}

START_TEST(test_nested_terminal_size_and_live_resize)
{
	nested_start(100, 40);
	ck_assert(features_offered() & F(VIRTIO_CONSOLE_F_SIZE));
	session_console(&s, &fe, FE_STYLE_UML);
	expect_resize(100, 40);
	/* The port is up: every change is a new RESIZE, at once. */
	resize_terminal(120, 50);
	expect_resize(120, 50);
	resize_terminal(61, 17);
	expect_resize(61, 17);
	expect_config_size(61, 17);
	/* Same size again: nothing new to say. */
	resize_terminal(61, 17);
	expect_no_control_message(300);
}
END_TEST

START_TEST(test_nested_resize_before_the_port_is_up)
{
	nested_start(100, 40);
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	resize_terminal(70, 20);
	ck_assert(log_has(&s, "SIGWINCH: the terminal is 70x20", 2000));
	/* Only the newest size, once the port is a console port. */
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	expect_resize(70, 20);
	expect_no_control_message(200);
}
END_TEST

START_TEST(test_nested_resizes_waiting_for_a_buffer_coalesce)
{
	struct virtio_console_control m;

	nested_start(100, 40);
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	/* One control buffer at a time, as a slow driver gives them. */
	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 1, 4096), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0xffffffffu,
				      VIRTIO_CONSOLE_DEVICE_READY, 1),
			 0);
	ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_DEVICE_ADD);
	/* CONSOLE_PORT takes the buffer; PORT_NAME, PORT_OPEN, RESIZE wait. */
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY, 1), 0);
	resize_terminal(70, 20);
	ck_assert(log_has(&s, "SIGWINCH: the terminal is 70x20", 2000));
	resize_terminal(71, 21);
	ck_assert(log_has(&s, "SIGWINCH: the terminal is 71x21", 2000));
	/* The waiting RESIZE got the newest size; no second one. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 3000), 0);
	ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_PORT_OPEN);
	expect_resize(71, 21);
	expect_no_control_message(300);
}
END_TEST

START_TEST(test_nested_resize_without_multiport)
{
	struct vhost_user_header h;

	nested_start(100, 40);
	frontend(FE_STYLE_QEMU, NO_MULTIPORT, true);
	expect_config_change(&h);
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 0), 0);
	expect_config_size(100, 40);
	resize_terminal(81, 27);
	expect_config_change(&h);
	ck_assert_int_eq(fe_backend_reply(&fe, &h, 0), 0);
	expect_config_size(81, 27);
}
END_TEST

START_TEST(test_nested_unsized_terminal_offers_no_size)
{
	nested_start(0, 0);
	ck_assert(!(features_offered() & F(VIRTIO_CONSOLE_F_SIZE)));
	ck_assert(log_has(&s, "start-up: the terminal has no size", 2000));
	session_console(&s, &fe, FE_STYLE_QEMU);
	resize_terminal(80, 24);
	ck_assert(log_has(&s, "SIGWINCH: the terminal is 80x24", 2000));
	/* F_SIZE was not offered to this frontend: nothing is sent. */
	expect_no_control_message(300);
}
END_TEST

Suite *console_size_suite(void)
{
	Suite *su = suite_create("console_size");
	TCase *tc = tcase_create("size");
	TCase *nested = tcase_create("nested");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_size_offered_only_with_a_size);
	tcase_add_test(tc, test_resize_after_console_port_in_spec_order);
	tcase_add_test(tc, test_resize_rows_first_for_older_guests);
	tcase_add_test(tc, test_no_resize_unless_size_negotiated);
	tcase_add_test(tc, test_no_resize_without_a_size);
	tcase_add_test(tc, test_resize_again_for_each_port_ready);
	tcase_add_test(tc, test_no_multiport_config_change_on_backend_channel);
	tcase_add_test(tc, test_no_multiport_uml_channel);
	tcase_add_test(tc,
		       test_no_multiport_without_channel_gets_no_notification);
	tcase_add_test(tc, test_multiport_sends_no_config_change);
	tcase_add_test(tc, test_channel_answers_checked);
	tcase_add_test(tc, test_channel_unasked_message_and_hangup);
	tcase_add_test(tc, test_set_backend_req_fd_refusals);
	tcase_add_test(tc, test_emergency_write_before_the_driver_is_ready);
	tcase_add_test(tc, test_emergency_write_kept_for_a_late_client);
	tcase_add_test(tc, test_emergency_write_as_qemu_writes_it);
	tcase_add_test(tc, test_config_writes_outside_emerg_wr_refused);
	suite_add_tcase(su, tc);

	tcase_add_checked_fixture(nested, NULL, nested_teardown);
	tcase_set_timeout(nested, 20);
	tcase_add_test(nested, test_nested_terminal_size_and_live_resize);
	tcase_add_test(nested, test_nested_resize_before_the_port_is_up);
	tcase_add_test(nested,
		       test_nested_resizes_waiting_for_a_buffer_coalesce);
	tcase_add_test(nested, test_nested_resize_without_multiport);
	tcase_add_test(nested, test_nested_unsized_terminal_offers_no_size);
	suite_add_tcase(su, nested);
	return su;
}
