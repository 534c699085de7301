/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_reliability.c - what a slow log reader, a careless operator, a
 * local user or a hostile frontend must not be able to do to a console:
 * stall the guest through the log, lock the console with a keystroke,
 * lose a client's input through the frontend's fault, delete somebody
 * else's file, stop every guest by signalling one worker, hang a second
 * daemon, or freeze the console by flooding the protocol socket.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

SESSION_FIXTURE(NULL)

/* --- 1. the log ------------------------------------------------------ */

/* Read what the pipe holds now. */
static size_t drain(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	ssize_t n;

	while (have < cap - 1 &&
	       (n = read(fd, buf + have, cap - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	return have;
}

START_TEST(test_log_reader_that_stops_reading_never_stalls_the_worker)
{
	static char got[1 << 20];
	struct daemon_proc d;
	char dir[64], prefix[96], con[96], vu[128];
	const char *args[] = {"-s", prefix, "-b", "uds", "--uds-path", con,
			      "--log-level=trace", NULL};
	struct fe_config cfg = {.socket_path = vu, .style = FE_STYLE_QEMU};
	int p[2], status, flags;
	size_t have, more;

	make_tmpdir(dir, sizeof(dir));
	snprintf(prefix, sizeof(prefix), "%s/vu", dir);
	snprintf(con, sizeof(con), "%s/con", dir);
	snprintf(vu, sizeof(vu), "%s0", prefix);
	/* stderr on a pipe that nobody reads until the end. */
	ck_assert_int_eq(pipe(p), 0);
	daemon_start_stderr(&d, p[1], args);
	close(p[1]);
	ck_assert(wait_for_child(d.pid, "vdc-worker-0", 0, 5000));
	ck_assert(wait_for_socket(vu, 5000));
	/* Each session writes some 30 lines: far more than a pipe holds. */
	for (int i = 0; i < 150; i++) {
		ck_assert_msg(fe_open(&fe, &cfg) == 0, "session %d: %s", i,
			      fe.err);
		ck_assert_msg(fe_negotiate(&fe) == 0,
			      "session %d: the worker stopped answering: %s", i,
			      fe.err);
		fe_close(&fe);
	}
	/* The stderr we gave it stays blocking: its flags are not ours. */
	flags = fcntl(p[0], F_GETFL);
	ck_assert_int_eq(flags & O_NONBLOCK, 0);
	/* Drain it; the next line says how many were lost meanwhile. */
	fcntl(p[0], F_SETFL, flags | O_NONBLOCK);
	have = drain(p[0], got, sizeof(got));
	more = have;
	sleep_ms(1100); /* a new second for the rate limit */
	ck_assert_int_eq(fe_open(&fe, &cfg), 0);
	ck_assert_int_eq(fe_negotiate(&fe), 0);
	fe_close(&fe);
	/* The note may come with the last lines of the flood or the new. */
	for (long end = now_ms() + WAIT_FLOOR_MS; now_ms() < end; sleep_ms(10)) {
		more += drain(p[0], got + more, sizeof(got) - more);
		if (strstr(got, "log lines were dropped because the log was not being read") &&
		    strstr(got + have, "GET_FEATURES"))
			break;
	}
	ck_assert_msg(strstr(got, "log lines were dropped because the log was not being read"),
		      "after draining:\n%.2000s", got);
	/* And lines flow again. */
	ck_assert(strstr(got + have, "GET_FEATURES"));
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
	remove_tree(dir);
}
END_TEST

/* --- 2. typed input belongs to the console --------------------------- */

START_TEST(test_client_that_leaves_typed_input_does_not_lock_the_console)
{
	char got[64] = {0}, busy[128];
	size_t mark;
	int c, fds, n;

	/* A frontend, but the guest has not opened the port yet. */
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	session_sync(&s, &fe);
	fds = count_fds(s.worker);
	mark = log_mark(&s);
	c = session_client(&s);
	write_all(c, "root\n", 5);
	close(c);
	s.client = -1;
	ck_assert_msg(log_has_since(&s, mark, "console client disconnected (hung up)", 3000),
		      "log:\n%s", daemon_log(&s.d));
	/* The dead socket is closed at once... */
	for (int i = 0; i < 100 && count_fds(s.worker) != fds; i++)
		sleep_ms(10);
	ck_assert_int_eq(count_fds(s.worker), fds);
	/* ...and the next client is served, not told the console is busy. */
	c = session_client(&s);
	sleep_ms(100);
	{
		struct pollfd pfd = {c, POLLIN, 0};

		n = poll(&pfd, 1, 0);
		if (n > 0) {
			n = (int)read(c, busy, sizeof(busy) - 1);
			busy[n > 0 ? n : 0] = '\0';
			ck_abort_msg("second client got \"%s\"; log:\n%s", busy, daemon_log(&s.d));
		}
	}
	write_all(c, "pw\n", 3);
	/* The guest opens the port: the first client's input comes first. */
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	n = 0;
	while (n < 8) {
		int r = fe_read_rx(&fe, got + n, sizeof(got) - 1 - (size_t)n,
				   3000);

		ck_assert_msg(r > 0, "got \"%s\": %s", got, fe.err);
		n += r;
	}
	ck_assert_str_eq(got, "root\npw\n");
}
END_TEST

START_TEST(test_client_that_leaves_more_than_the_console_keeps_loses_nothing)
{
	static uint8_t data[160 << 10], got[sizeof(data)];
	size_t have = 0;
	pid_t writer;
	int c;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	session_frontend(&s, &fe, FE_STYLE_QEMU, true);
	c = session_client(&s);
	/* From another process, which ends when all is written: what the
	 * console does not keep waits in the socket. */
	writer = fork();
	ck_assert_int_ge(writer, 0);
	if (writer == 0) {
		write_all(c, data, sizeof(data));
		_exit(0);
	}
	ck_assert_int_eq(wait_pid_timeout(writer, WAIT_FLOOR_MS), 0);
	close(c);
	s.client = -1;
	ck_assert(log_has(&s, "it stays until the guest has read it", 3000));
	ck_assert_int_eq(fe_console_handshake(&fe, NULL, 0), 0);
	while (have < sizeof(data)) {
		int n = fe_read_rx(&fe, got + have, sizeof(got) - have, 5000);

		ck_assert_msg(n > 0, "stuck at %zu: %s", have, fe.err);
		have += (size_t)n;
	}
	ck_assert(memcmp(got, data, sizeof(data)) == 0);
	ck_assert(log_has(&s, "console client disconnected (end of input)",
			  3000));
}
END_TEST

/* --- 3. the frontend's memory fault is the frontend's ---------------- */

/* Cut the memfd where queue @q's data buffers start (rings stay). */
static void cut_memory_at_data_of(unsigned int q)
{
	off_t at = (off_t)(fe.mmap_offset + fe.rings[q].data_gpa -
			   FE_GPA_BASE);

	ck_assert_int_eq(ftruncate(fe.memfd, at), 0);
}

static size_t client_mark; /* the log when the client connected */

static void expect_client_kept(void)
{
	ck_assert_msg(!log_has_since(&s, client_mark, "console client disconnected", 0),
		      "log:\n%s", daemon_log(&s.d));
}

START_TEST(test_efault_on_rx_ends_the_session_and_keeps_client_input)
{
	char got[16] = {0};
	int c;

	session_console(&s, &fe, FE_STYLE_QEMU);
	client_mark = log_mark(&s);
	c = session_client(&s);
	cut_memory_at_data_of(CONSOLE_QUEUE_RX);
	write_all(c, "kept", 4);
	ck_assert_msg(log_has(&s, "reading console input into guest memory failed", 3000),
		      "log:\n%s", daemon_log(&s.d));
	ck_assert(log_has(&s, "closing the frontend connection", 3000));
	expect_client_kept();
	/* The next VM gets what the client typed. */
	fe_close(&fe);
	session_console(&s, &fe, FE_STYLE_QEMU);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 4);
	ck_assert_str_eq(got, "kept");
	expect_client_kept();
	tx_and_expect(&s, &fe, "same client", 11, 11, false);
}
END_TEST

START_TEST(test_efault_on_tx_ends_the_session_and_keeps_the_client)
{
	session_console(&s, &fe, FE_STYLE_QEMU);
	client_mark = log_mark(&s);
	session_client(&s);
	tx_and_expect(&s, &fe, "before", 6, 6, false);
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "lost", 4, 4,
				      false),
			 0);
	/* The chain's data is written; now it is cut away under it. */
	cut_memory_at_data_of(CONSOLE_QUEUE_TX);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	fe_kick(&fe, CONSOLE_QUEUE_TX);
	ck_assert_msg(log_has(&s, "console output from guest memory failed", 3000),
		      "log:\n%s", daemon_log(&s.d));
	ck_assert(log_has(&s, "closing the frontend connection", 3000));
	expect_client_kept();
	fe_close(&fe);
	session_console(&s, &fe, FE_STYLE_QEMU);
	tx_and_expect(&s, &fe, "after", 5, 5, false);
	expect_client_kept();
}
END_TEST

/* --- 7. a flooding frontend ------------------------------------------ */

START_TEST(test_flooding_frontend_does_not_freeze_its_console)
{
	struct vhost_user_header h = {.request = VHOST_USER_SET_OWNER,
				      .flags = VHOST_USER_VERSION};
	static struct vhost_user_header flood[5000];
	int big = 16 << 20;
	char got[16];
	pid_t pid;
	long t0, took;
	uint32_t len;
	uint16_t id;
	int c;

	session_console(&s, &fe, FE_STYLE_QEMU);
	/* Output waits for the client that is about to come. */
	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, "hello", 5, 5,
				      false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	fe_kick(&fe, CONSOLE_QUEUE_TX);
	/* Taken into the buffer: the chain comes back. */
	for (long end = now_ms() + WAIT_FLOOR_MS;
	     fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len) == 0;) {
		ck_assert_msg(now_ms() < end, "the console did not take the output");
		fe_wait_call(&fe, CONSOLE_QUEUE_TX, 20);
	}
	for (size_t i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
		flood[i] = h;
	/* A deep socket buffer keeps the worker's socket from ever running
	 * dry while the flood lasts. */
	setsockopt(fe.sock, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		long end = now_ms() + 5000;

		while (now_ms() < end)
			if (write(fe.sock, flood, sizeof(flood)) < 0 &&
			    errno != EINTR)
				_exit(0);
		_exit(0);
	}
	sleep_ms(300);
	t0 = now_ms();
	c = session_client(&s);
	ck_assert_msg(read_exact(c, got, 5, 3000), "no output while flooded");
	took = now_ms() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert(memcmp(got, "hello", 5) == 0);
	/* Before, it waited until the flood ended (seconds); now one round
	 * of the loop. The bound is loose for a loaded machine. */
	ck_assert_msg(took < 1000, "console answered after %ld ms", took);
	fprintf(stderr, "flooded frontend: the console answered in %ld ms\n", took);
}
END_TEST

/* --- 4, 5, 6. the process and its files ------------------------------ */

static char dir[64], prefix[80], sock0[96], sock1[96];

static void proc_setup(void)
{
	make_tmpdir(dir, sizeof(dir));
	snprintf(prefix, sizeof(prefix), "%s/vu", dir);
	snprintf(sock0, sizeof(sock0), "%s0", prefix);
	snprintf(sock1, sizeof(sock1), "%s1", prefix);
}

static void proc_teardown(void)
{
	remove_tree(dir);
}

static void start_two(struct daemon_proc *d)
{
	const char *a[] = {"-s", prefix, "-c", "2", "-b", "network", "-p",
			   "23530", NULL};

	daemon_start(d, dir, a);
	ck_assert(wait_for_child(d->pid, "vdc-worker-0", 0, 5000));
	ck_assert(wait_for_child(d->pid, "vdc-worker-1", 0, 5000));
	ck_assert(wait_for_socket(sock1, 5000));
}

static int listen_at(const char *path, int backlog)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, backlog), 0);
	return fd;
}

START_TEST(test_stopping_removes_only_its_own_socket_files)
{
	struct daemon_proc d;
	struct stat st;
	int fd, lfd, status;

	start_two(&d);
	/* Somebody replaces socket 0 with a file, socket 1 with a socket. */
	ck_assert_int_eq(unlink(sock0), 0);
	fd = open(sock0, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "data", 4), 4);
	close(fd);
	ck_assert_int_eq(unlink(sock1), 0);
	lfd = listen_at(sock1, 4);
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(stat(sock0, &st), 0);
	ck_assert(S_ISREG(st.st_mode) && st.st_size == 4);
	ck_assert_int_eq(stat(sock1, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	close(lfd);
}
END_TEST

START_TEST(test_own_socket_files_removed_on_stop)
{
	struct daemon_proc d;
	int status;

	start_two(&d);
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(!path_exists(sock0));
	ck_assert(!path_exists(sock1));
}
END_TEST

START_TEST(test_signalled_worker_is_restarted_not_the_daemon_stopped)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
	struct daemon_proc d;
	pid_t w0, w1, again;
	int status, fd;

	start_two(&d);
	w1 = find_child(d.pid, "vdc-worker-1");
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		w0 = find_child(d.pid, "vdc-worker-0");
		ck_assert_int_eq(kill(w0, sigs[i]), 0);
		again = wait_for_child(d.pid, "vdc-worker-0", w0, 10000);
		ck_assert_msg(again != 0, "signal %d: worker 0 not back; log:\n%s",
			      sigs[i], daemon_log(&d));
		ck_assert_int_eq(kill(d.pid, 0), 0);
		ck_assert_int_eq(find_child(d.pid, "vdc-worker-1"), w1);
	}
	ck_assert(strstr(daemon_log(&d), "was stopped by a signal the supervisor did not send"));
	fd = connect_unix(sock0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_second_daemon_refused_at_once_when_backlog_is_full)
{
	struct run_result *r = malloc(sizeof(*r));
	const char *a[] = {"-s", prefix, "-b", "network", "-p", "23540", NULL};
	int lfd, fds[64], n = 0;
	long t0, took;

	ck_assert_ptr_nonnull(r);
	/* A live listener nobody accepts on, its backlog full. */
	lfd = listen_at(sock0, 0);
	while (n < 64) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		fds[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock0);
		if (connect(fds[n], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(fds[n]);
			break;
		}
		n++;
	}
	ck_assert_int_lt(n, 64);
	t0 = now_ms();
	run_daemon(a, 5000, r);
	took = now_ms() - t0;
	ck_assert(WIFEXITED(r->status));
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "another process is listening"),
		      "stderr: %s", r->err);
	ck_assert_msg(took < 1000, "refused after %ld ms", took);
	ck_assert(path_exists(sock0));
	while (n--)
		close(fds[n]);
	close(lfd);
	free(r);
}
END_TEST

START_TEST(test_second_frontend_refused_first_undisturbed)
{
	struct fe second;
	struct fe_config cfg = {.socket_path = s.vu_path,
				.style = FE_STYLE_QEMU};
	uint64_t v;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	memset(&second, 0, sizeof(second));
	ck_assert_int_eq(fe_open(&second, &cfg), 0);
	/* Closed at once, not left waiting in the backlog. */
	ck_assert_int_lt(fe_get_u64(&second, VHOST_USER_GET_FEATURES, &v), 0);
	fe_close(&second);
	ck_assert(log_has(&s, "frontend refused: this socket already serves a frontend", 2000));
	tx_and_expect(&s, &fe, "still here", 10, 10, false);
}
END_TEST

Suite *reliability_suite(void)
{
	Suite *su = suite_create("reliability");
	TCase *tc = tcase_create("console");
	TCase *proc = tcase_create("process");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_client_that_leaves_typed_input_does_not_lock_the_console);
	tcase_add_test(tc, test_client_that_leaves_more_than_the_console_keeps_loses_nothing);
	tcase_add_test(tc, test_efault_on_rx_ends_the_session_and_keeps_client_input);
	tcase_add_test(tc, test_efault_on_tx_ends_the_session_and_keeps_the_client);
	tcase_add_test(tc, test_flooding_frontend_does_not_freeze_its_console);
	tcase_add_test(tc, test_second_frontend_refused_first_undisturbed);
	suite_add_tcase(su, tc);

	tcase_add_checked_fixture(proc, proc_setup, proc_teardown);
	tcase_set_timeout(proc, 60);
	tcase_add_test(proc, test_log_reader_that_stops_reading_never_stalls_the_worker);
	tcase_add_test(proc, test_stopping_removes_only_its_own_socket_files);
	tcase_add_test(proc, test_own_socket_files_removed_on_stop);
	tcase_add_test(proc, test_signalled_worker_is_restarted_not_the_daemon_stopped);
	tcase_add_test(proc, test_second_daemon_refused_at_once_when_backlog_is_full);
	suite_add_tcase(su, proc);
	return su;
}
