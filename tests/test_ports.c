/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_ports.c - named data ports beside the console (--port=NAME:PATH),
 * driven by the test frontend as Linux's virtio_console driver drives
 * them: PORT_ADD, PORT_READY, PORT_NAME, PORT_OPEN both ways; lossless
 * output at the client's pace; input only while the guest has the port
 * open; a frontend with fewer queues still getting its console.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

#define AGENT "org.qemu.guest_agent.0"

static struct session s;
static struct fe fe;
static char agent_arg[160], data_arg[160], agent_path[160], data_path[160];

static void setup(void)
{
	char dir[64];
	const char *extra[] = {agent_arg, data_arg, NULL};

	/* The session's directory is made by session_start(): use our own
	 * for the port sockets. */
	make_tmpdir(dir, sizeof(dir));
	snprintf(agent_arg, sizeof(agent_arg), "--port=" AGENT ":%s/ga", dir);
	snprintf(data_arg, sizeof(data_arg), "--port=data:%s/data", dir);
	snprintf(agent_path, sizeof(agent_path), "%s/ga0", dir);
	snprintf(data_path, sizeof(data_path), "%s/data0", dir);
	session_start(&s, extra);
	ck_assert(wait_for_socket(data_path, 5000));
}

static void teardown(void)
{
	char dir[160];

	fe_close(&fe);
	session_stop(&s);
	snprintf(dir, sizeof(dir), "%s", agent_path);
	*strrchr(dir, '/') = '\0';
	remove_tree(dir);
}

static void open_frontend(unsigned int queues, enum fe_style style)
{
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = style,
				.queues = queues};

	ck_assert_msg(fe_open(&fe, &cfg) == 0, "fe_open: %s", fe.err);
	ck_assert_msg(fe_negotiate(&fe) == 0, "negotiate: %s\nlog:\n%s", fe.err,
		      daemon_log(&s.d));
}

static void expect_ctrl(uint32_t id, uint16_t event, int value,
			const char *extra)
{
	struct virtio_console_control m;
	char got[96];
	size_t len = 0;

	ck_assert_msg(fe_ctrl_recv(&fe, &m, got, sizeof(got), &len, 3000) == 0,
		      "no control message (expected event %u port %u): %s; log:\n%s",
		      event, id, fe.err, daemon_log(&s.d));
	ck_assert_msg(m.event == event && m.id == id &&
			      (value < 0 || m.value == value),
		      "got event %u port %u value %u, expected event %u port %u value %d",
		      m.event, m.id, m.value, event, id, value);
	if (extra)
		ck_assert_str_eq(got, extra);
}

static void expect_no_ctrl(void)
{
	struct virtio_console_control m;

	ck_assert_msg(fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 300) < 0,
		      "unexpected event %u port %u value %u", m.event, m.id,
		      m.value);
}

/* The driver's bring-up of @ports ports, as Linux does it. */
static void bring_up(unsigned int ports)
{
	char name[64];

	ck_assert_int_eq(fe_post_rx(&fe, CONSOLE_QUEUE_CTRL_RX, 32, 256), 0);
	fe_publish(&fe, CONSOLE_QUEUE_CTRL_RX);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0xffffffffu,
				      VIRTIO_CONSOLE_DEVICE_READY, 1),
			 0);
	for (unsigned int i = 0; i < ports; i++)
		expect_ctrl(i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
	for (unsigned int i = 0; i < ports; i++) {
		unsigned int rx = i ? 2 * i + 2 : 0;

		ck_assert_int_eq(fe_post_rx(&fe, rx, 16, 4096), 0);
		fe_publish(&fe, rx);
	}
	/* The console. */
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_READY, 1),
			 0);
	expect_ctrl(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	snprintf(name, sizeof(name), "vhost-device-console.0");
	expect_ctrl(0, VIRTIO_CONSOLE_PORT_NAME, -1, name);
	expect_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	ck_assert_int_eq(fe_ctrl_send(&fe, 0, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	/* The data ports: a name, never CONSOLE_PORT; nobody on the host. */
	for (unsigned int i = 1; i < ports; i++) {
		ck_assert_int_eq(fe_ctrl_send(&fe, i, VIRTIO_CONSOLE_PORT_READY,
					      1),
				 0);
		expect_ctrl(i, VIRTIO_CONSOLE_PORT_NAME, -1,
			    i == 1 ? AGENT : "data");
		expect_ctrl(i, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
	}
}

START_TEST(test_config_and_queue_count_follow_the_ports)
{
	struct virtio_console_config cfg;
	uint64_t n;

	open_frontend(8, FE_STYLE_QEMU);
	ck_assert_int_eq(fe_get_config(&fe, 0, sizeof(cfg), &cfg), 0);
	ck_assert_uint_eq(cfg.max_nr_ports, 3);
	ck_assert_int_eq(fe_get_u64(&fe, VHOST_USER_GET_QUEUE_NUM, &n), 0);
	ck_assert_uint_eq(n, 8);
}
END_TEST

START_TEST(test_ports_added_named_and_host_open_follows_clients)
{
	int c;

	open_frontend(8, FE_STYLE_UML);
	bring_up(3);
	expect_no_ctrl();
	c = connect_unix(agent_path);
	ck_assert_int_ge(c, 0);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	close(c);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
	/* The guest's opens and closes are logged. */
	ck_assert_int_eq(fe_ctrl_send(&fe, 2, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	ck_assert(log_has(&s, "guest opened port 2 (data)", 2000));
	ck_assert_int_eq(fe_ctrl_send(&fe, 2, VIRTIO_CONSOLE_PORT_OPEN, 0), 0);
	ck_assert(log_has(&s, "guest closed port 2 (data)", 2000));
}
END_TEST

/*
 * The daemon's log tells a port's host client from the console's: a client
 * of port 1 coming is logged as the port's ("port 1 (NAME): host client
 * connected"), not also as "console client connected" (nor its leaving as
 * "console client disconnected"). The line just before the port's must
 * not be a console client's (the harness's own probes of the sockets in
 * setup() came and went long before).
 */
START_TEST(test_port_clients_are_logged_as_the_ports)
{
	const char *want = "port 1 (" AGENT "): host client connected";
	const char *log, *at, *prev;
	int c;

	open_frontend(8, FE_STYLE_UML);
	bring_up(3);
	c = connect_unix(agent_path);
	ck_assert_int_ge(c, 0);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	close(c);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
	ck_assert(log_has(&s, want, 2000));
	log = daemon_log(&s.d);
	at = strstr(log, want);
	ck_assert_ptr_nonnull(at);
	/* The line before the port's line: prev .. at. */
	while (at > log && at[-1] != '\n')
		at--;
	ck_assert_ptr_ne(at, log);
	prev = at - 1;
	while (prev > log && prev[-1] != '\n')
		prev--;
	ck_assert_msg(!memmem(prev, (size_t)(at - prev), "console client connected",
			      strlen("console client connected")),
		      "a client of port 1 (" AGENT ") was logged as a console client too:\n%.*s%s",
		      (int)(at - prev), prev, want);
}
END_TEST

/* Wait until the worker holds @n fds. */
static bool wait_fds(int n)
{
	for (long end = wait_deadline(5000); now_ms() < end; sleep_ms(1))
		if (count_fds(s.worker) == n)
			return true;
	return false;
}

/*
 * A guest slow to post control buffers, and a host client that comes and
 * goes many times meanwhile: however many changes waited, the guest is
 * told the host side's last state (each port's PORT_OPEN waits once, with
 * its newest value), never an older one.
 */
START_TEST(test_waiting_port_open_carries_the_last_state)
{
	struct virtio_console_control m;
	int c, fds, last = -1;

	open_frontend(8, FE_STYLE_UML);
	bring_up(3);
	/* The guest posts no more buffers: 32 changes fill the ones it has,
	 * the rest wait; the client is connected at the end. Each client is
	 * seen to come and go by the worker's fds (its log lines are rate
	 * limited at this pace). */
	for (unsigned int i = 0; i <= 100; i++) {
		fds = count_fds(s.worker);
		c = connect_unix(agent_path);
		ck_assert_int_ge(c, 0);
		ck_assert_msg(wait_fds(fds + 1), "change %u: not accepted", i);
		if (i == 100)
			break;
		close(c);
		ck_assert_msg(wait_fds(fds), "change %u: not closed", i);
	}
	/* The guest catches up: every buffer it reads it posts again. */
	while (fe_ctrl_recv(&fe, &m, NULL, 0, NULL, 500) == 0) {
		fe_kick(&fe, CONSOLE_QUEUE_CTRL_RX);
		ck_assert_uint_eq(m.id, 1);
		ck_assert_uint_eq(m.event, VIRTIO_CONSOLE_PORT_OPEN);
		last = m.value;
	}
	ck_assert_msg(last == 1, "the guest was told last that port 1 is %s",
		      last == 0 ? "closed" : "not there");
	close(c);
}
END_TEST

START_TEST(test_fewer_queues_still_get_the_console)
{
	struct virtio_console_config cfg;

	open_frontend(4, FE_STYLE_QEMU);
	ck_assert_int_eq(fe_get_config(&fe, 0, sizeof(cfg), &cfg), 0);
	ck_assert_uint_eq(cfg.max_nr_ports, 1);
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	expect_no_ctrl();
	tx_and_expect(&s, &fe, "console", 7, 7, false);
	ck_assert(log_has(&s, "the frontend has 4 queues: 1 of 3 ports fit", 2000));
}
END_TEST

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* How many tx chains of @q the daemon has handed back so far. */
static unsigned int reap(unsigned int q)
{
	unsigned int n = 0;
	uint16_t id;
	uint32_t len;

	while (fe_get_used(&fe, q, &id, &len) == 1)
		n++;
	return n;
}

START_TEST(test_data_port_output_waits_for_its_client_and_loses_nothing)
{
	static uint8_t data[48 * 4096], got[sizeof(data)];
	const unsigned int tx = 2 * 2 + 3; /* port 2 */
	unsigned int done = 0;
	int c;

	open_frontend(8, FE_STYLE_QEMU);
	bring_up(3);
	fill(data, sizeof(data), 7);
	/* No client: the guest's writes are not taken. */
	for (unsigned int i = 0; i < 48; i++)
		ck_assert_int_eq(fe_submit_tx(&fe, tx, data + i * 4096, 4096,
					      4096, false),
				 0);
	fe_publish(&fe, tx);
	fe_kick(&fe, tx);
	sleep_ms(300);
	ck_assert_uint_eq(reap(tx), 0);
	/* The console is not held up by it. */
	tx_and_expect(&s, &fe, "still", 5, 5, false);
	/* A client that reads slowly gets every byte, in order. */
	c = connect_unix(data_path);
	ck_assert_int_ge(c, 0);
	expect_ctrl(2, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	for (size_t have = 0; have < sizeof(data);) {
		ssize_t n;

		ck_assert_msg(read_exact(c, got + have, 1, 5000),
			      "stuck at %zu; log:\n%s", have, daemon_log(&s.d));
		have++;
		n = read(c, got + have,
			 sizeof(data) - have < 8192 ? sizeof(data) - have
						      : 8192);
		if (n > 0)
			have += (size_t)n;
		done += reap(tx);
		sleep_ms(1);
	}
	ck_assert(memcmp(got, data, sizeof(data)) == 0);
	for (long end = wait_deadline(2000); done < 48 && now_ms() < end;
	     sleep_ms(10))
		done += reap(tx);
	ck_assert_uint_eq(done, 48);
	close(c);
}
END_TEST

/*
 * A data port holds a batch its slow client has not taken; when the
 * frontend stops the queue (GET_VRING_BASE), the chains not written go
 * back to the ring: the base it is told counts only chains handed back.
 */
START_TEST(test_held_batch_goes_back_when_the_queue_stops)
{
	static uint8_t data[120 * 4096];
	const unsigned int tx = 2 * 2 + 3; /* port 2 */
	struct vhost_user_vring_state st = {.index = tx};
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = FE_STYLE_QEMU,
				.queues = 8,
				.queue_size = 128};
	int c, small = 4096;
	unsigned int used;

	/* More than a unix socket holds (its sender's buffer, ~208 KiB). */
	ck_assert_msg(fe_open(&fe, &cfg) == 0, "fe_open: %s", fe.err);
	ck_assert_int_eq(fe_negotiate(&fe), 0);
	bring_up(3);
	c = connect_unix(data_path);
	ck_assert_int_ge(c, 0);
	setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	expect_ctrl(2, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	for (unsigned int i = 0; i < 120; i++)
		ck_assert_int_eq(fe_submit_tx(&fe, tx, data + i * 4096, 4096,
					      4096, false),
				 0);
	fe_publish(&fe, tx);
	fe_kick(&fe, tx);
	sleep_ms(300);
	used = reap(tx);
	ck_assert_uint_lt(used, 120); /* the client reads nothing */
	ck_assert_int_eq(fe_request(&fe, VHOST_USER_GET_VRING_BASE, &st,
				    sizeof(st), NULL, 0, &st, sizeof(st)),
			 (int)sizeof(st));
	used += reap(tx);
	ck_assert_uint_eq(st.num, used);
	close(c);
}
END_TEST

START_TEST(test_data_port_input_waits_until_the_guest_opens_it)
{
	char got[32] = {0};
	const unsigned int rx = 2 * 1 + 2; /* port 1 */
	int c, n = 0;

	open_frontend(8, FE_STYLE_QEMU);
	bring_up(3);
	c = connect_unix(agent_path);
	ck_assert_int_ge(c, 0);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	write_all(c, "{\"execute\":\"guest-ping\"}", 24);
	/* Linux drops data for a closed port: none is sent before. */
	ck_assert_int_lt(fe_read_rx_queue(&fe, rx, got, sizeof(got), 300), 0);
	ck_assert_int_eq(fe_ctrl_send(&fe, 1, VIRTIO_CONSOLE_PORT_OPEN, 1), 0);
	while (n < 24) {
		int r = fe_read_rx_queue(&fe, rx, got + n,
					 sizeof(got) - 1 - (size_t)n, 3000);

		ck_assert_msg(r > 0, "%s", fe.err);
		n += r;
	}
	ck_assert_str_eq(got, "{\"execute\":\"guest-ping\"}");
	close(c);
}
END_TEST

START_TEST(test_port_sockets_are_private)
{
	struct stat st;

	ck_assert_int_eq(stat(agent_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* --- the option ------------------------------------------------------ */

static void expect_refused(const char *arg, const char *why)
{
	struct run_result *r = malloc(sizeof(*r));
	const char *a[] = {"-s", "/tmp/vdc-never", "-b", "network", arg, NULL};

	ck_assert_ptr_nonnull(r);
	run_daemon(a, 5000, r);
	ck_assert(WIFEXITED(r->status));
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, why), "%s: stderr: %s", arg, r->err);
	ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1,
		      "more than one line: %s", r->err);
	free(r);
}

START_TEST(test_bad_port_options_refused)
{
	expect_refused("--port=nopath", "is not NAME:PATH");
	expect_refused("--port=:/tmp/x", "is not NAME:PATH");
	expect_refused("--port=a/b:/tmp/x", "printable characters other than blank and '/'");
	expect_refused("--port=a b:/tmp/x", "printable characters");
	expect_refused("--port=a\tb:/tmp/x", "printable characters");
	expect_refused("--port=x:/tmp/", "ends in '/'");
}
END_TEST

START_TEST(test_duplicate_port_names_refused)
{
	struct run_result *r = malloc(sizeof(*r));
	const char *a[] = {"-s",		"/tmp/vdc-never", "-b",
			   "network",		"--port=a:/tmp/x",
			   "--port=a:/tmp/y", NULL};

	ck_assert_ptr_nonnull(r);
	run_daemon(a, 5000, r);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "the name 'a' is given twice"), "%s",
		      r->err);
	free(r);
}
END_TEST

Suite *ports_suite(void)
{
	Suite *su = suite_create("ports");
	TCase *tc = tcase_create("device");
	TCase *opt = tcase_create("options");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_config_and_queue_count_follow_the_ports);
	tcase_add_test(tc, test_ports_added_named_and_host_open_follows_clients);
	tcase_add_test(tc, test_port_clients_are_logged_as_the_ports);
	tcase_add_test(tc, test_fewer_queues_still_get_the_console);
	tcase_add_test(tc, test_waiting_port_open_carries_the_last_state);
	tcase_add_test(tc, test_data_port_output_waits_for_its_client_and_loses_nothing);
	tcase_add_test(tc, test_data_port_input_waits_until_the_guest_opens_it);
	tcase_add_test(tc, test_held_batch_goes_back_when_the_queue_stops);
	tcase_add_test(tc, test_port_sockets_are_private);
	suite_add_tcase(su, tc);
	tcase_add_test(opt, test_bad_port_options_refused);
	tcase_add_test(opt, test_duplicate_port_names_refused);
	suite_add_tcase(su, opt);
	return su;
}
