/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_nested.c - the nested backend through a pty: raw mode, every key
 * (Ctrl-C included) to the guest, the Ctrl-a escape, and the terminal
 * restored on every way out.
 */
#include <check.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

static struct session s;
static struct fe fe;
static int master = -1, slave = -1;
static struct termios cooked;

static void setup(void)
{
	session_start_nested(&s, &master, &slave, NULL, &cooked);
	ck_assert(cooked.c_lflag & ICANON);
}

static void teardown(void)
{
	fe_close(&fe);
	if (s.d.pid > 0)
		daemon_stop(&s.d, SIGKILL, 2000);
	close(master);
	close(slave);
	remove_tree(s.dir);
}

static bool termios_restored(void)
{
	struct termios now;

	ck_assert_int_eq(tcgetattr(slave, &now), 0);
	return now.c_lflag == cooked.c_lflag && now.c_iflag == cooked.c_iflag &&
	       now.c_oflag == cooked.c_oflag;
}

static void expect_exit_zero(void)
{
	int status = wait_pid_timeout(s.d.pid, 5000);

	ck_assert_msg(status != -1, "daemon still running; log:\n%s",
		      daemon_log(&s.d));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %#x; log:\n%s", status, daemon_log(&s.d));
	s.d.pid = 0;
}

START_TEST(test_raw_mode_keys_reach_guest_and_output_reaches_terminal)
{
	struct termios raw;
	char got[32];
	int n;

	ck_assert_int_eq(tcgetattr(slave, &raw), 0);
	ck_assert(!(raw.c_lflag & (ICANON | ECHO | ISIG)));
	session_console(&s, &fe, FE_STYLE_QEMU);

	fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "guest$ ", 7, 7, false);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ck_assert(read_exact(master, got, 7, 3000));
	ck_assert(memcmp(got, "guest$ ", 7) == 0);

	/* Ctrl-C goes to the guest; Ctrl-a Ctrl-a is one Ctrl-a; Ctrl-a
	 * and another key sends both. */
	write_all(master, "ls\x03\x01\x01z\x01q", 8);
	n = 0;
	while (n < 7) {
		int k = fe_read_rx(&fe, got + n, sizeof(got) - (size_t)n, 3000);

		ck_assert_msg(k > 0, "%s", fe.err);
		n += k;
	}
	ck_assert_msg(n == 7, "got %d: %02x %02x %02x %02x %02x %02x %02x %02x",
		      n, got[0], got[1], got[2], got[3], got[4], got[5], got[6],
		      got[7]);
	ck_assert(memcmp(got, "ls\x03\x01z\x01q", 7) == 0);
}
END_TEST

START_TEST(test_ctrl_a_x_quits_and_restores_terminal)
{
	session_console(&s, &fe, FE_STYLE_QEMU);
	write_all(master, "\x01x", 2);
	expect_exit_zero();
	ck_assert(termios_restored());
	ck_assert(!path_exists(s.vu_path));
}
END_TEST

START_TEST(test_signal_restores_terminal)
{
	kill(s.d.pid, SIGTERM);
	expect_exit_zero();
	ck_assert(termios_restored());
}
END_TEST

START_TEST(test_killed_worker_terminal_restored_and_worker_back)
{
	pid_t w2;

	ck_assert_int_eq(kill(s.worker, SIGKILL), 0);
	w2 = wait_for_child(s.d.pid, "vdc-worker-0", s.worker, 5000);
	ck_assert(w2);
	ck_assert(log_has(&s, "killed by signal 9", 2000));
	/* The new worker owns the terminal again... */
	session_console(&s, &fe, FE_STYLE_QEMU);
	fe_close(&fe);
	/* ...and the supervisor leaves it as it found it. */
	kill(s.d.pid, SIGTERM);
	expect_exit_zero();
	ck_assert(termios_restored());
}
END_TEST

START_TEST(test_stdin_from_a_pipe)
{
	struct session p;
	int in[2], out[2];
	char got[16], prefix[96];

	teardown();
	memset(&p, 0, sizeof(p));
	make_tmpdir(p.dir, sizeof(p.dir));
	snprintf(prefix, sizeof(prefix), "%s/vu", p.dir);
	snprintf(p.vu_path, sizeof(p.vu_path), "%s0", prefix);
	snprintf(p.d.log_path, sizeof(p.d.log_path), "%s/daemon.log", p.dir);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	p.d.pid = fork();
	if (p.d.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]); /* or the daemon never sees end of input */
		close(out[0]);
		dup2(open(p.d.log_path, O_WRONLY | O_CREAT, 0600), 2);
		execl(daemon_path(), daemon_path(), "-s", prefix, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s = p;
	master = -1;
	slave = -1;
	ck_assert(wait_for_child(s.d.pid, "vdc-worker-0", 0, 5000));
	session_console(&s, &fe, FE_STYLE_QEMU);
	write_all(in[1], "piped", 5);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 5);
	ck_assert(memcmp(got, "piped", 5) == 0);
	fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "out", 3, 3, false);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ck_assert(read_exact(out[0], got, 3, 3000));
	ck_assert(memcmp(got, "out", 3) == 0);
	/* End of input: output goes on. */
	close(in[1]);
	ck_assert(log_has(&s, "no more input to the guest", 3000));
	fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "more", 4, 4, false);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ck_assert(read_exact(out[0], got, 4, 3000));
	close(out[0]);
}
END_TEST

START_TEST(test_piped_input_longer_than_read_ahead_waits_for_guest)
{
	static char data[9000], got[sizeof(data)];
	struct session p;
	int in[2];
	char prefix[96];
	size_t have = 0;
	long before;

	teardown();
	memset(&p, 0, sizeof(p));
	make_tmpdir(p.dir, sizeof(p.dir));
	snprintf(prefix, sizeof(prefix), "%s/vu", p.dir);
	snprintf(p.vu_path, sizeof(p.vu_path), "%s0", prefix);
	snprintf(p.d.log_path, sizeof(p.d.log_path), "%s/daemon.log", p.dir);
	ck_assert_int_eq(pipe(in), 0);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	/* More than the read-ahead buffer, then end of input, no guest. */
	ck_assert_int_eq(write(in[1], data, sizeof(data)),
			 (ssize_t)sizeof(data));
	close(in[1]);
	p.d.pid = fork();
	if (p.d.pid == 0) {
		dup2(in[0], 0);
		dup2(open("/dev/null", O_WRONLY), 1);
		dup2(open(p.d.log_path, O_WRONLY | O_CREAT, 0600), 2);
		execl(daemon_path(), daemon_path(), "-s", prefix, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	s = p;
	master = slave = -1;
	s.worker = wait_for_child(s.d.pid, "vdc-worker-0", 0, 5000);
	ck_assert(s.worker);
	sleep_ms(200);
	before = cpu_ticks(s.worker);
	sleep_ms(500);
	ck_assert_int_le(cpu_ticks(s.worker) - before, 5);
	session_console(&s, &fe, FE_STYLE_QEMU);
	while (have < sizeof(data)) {
		int n = fe_read_rx(&fe, got + have, sizeof(got) - have, 3000);

		ck_assert_msg(n > 0, "stuck at %zu: %s", have, fe.err);
		have += (size_t)n;
	}
	ck_assert(memcmp(got, data, sizeof(data)) == 0);
}
END_TEST

Suite *nested_suite(void)
{
	Suite *su = suite_create("nested");
	TCase *tc = tcase_create("pty");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
		       test_raw_mode_keys_reach_guest_and_output_reaches_terminal);
	tcase_add_test(tc, test_ctrl_a_x_quits_and_restores_terminal);
	tcase_add_test(tc, test_signal_restores_terminal);
	tcase_add_test(tc,
		       test_killed_worker_terminal_restored_and_worker_back);
	tcase_add_test(tc, test_stdin_from_a_pipe);
	tcase_add_test(tc,
		       test_piped_input_longer_than_read_ahead_waits_for_guest);
	suite_add_tcase(su, tc);
	return su;
}
