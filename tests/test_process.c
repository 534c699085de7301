/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_process.c - the process model: one worker per socket, signals,
 * restarts, socket files and a second daemon on the same path.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "suites.h"

static char dir[64];
static char sock[3][128];
static char prefix[96];

static void setup(void)
{
	make_tmpdir(dir, sizeof(dir));
	snprintf(prefix, sizeof(prefix), "%s/vu", dir);
	for (int i = 0; i < 3; i++)
		snprintf(sock[i], sizeof(sock[i]), "%s%d", prefix, i);
}

static void teardown(void)
{
	remove_tree(dir);
}

static void start_three(struct daemon_proc *d)
{
	const char *a[] = {"-s",      prefix, "-c",    "3", "-b",
			   "network", "-p",   "23500", NULL};

	daemon_start(d, dir, a);
	for (int i = 0; i < 3; i++) {
		char comm[32];

		ck_assert_msg(wait_for_socket(sock[i], 5000),
			      "%s never accepted; log:\n%s", sock[i],
			      daemon_log(d));
		/* The parent binds before it forks: wait for the workers. */
		snprintf(comm, sizeof(comm), "vdc-worker-%d", i);
		ck_assert(wait_for_child(d->pid, comm, 0, 5000) != 0);
	}
}

START_TEST(test_three_sockets_three_workers_and_sigterm_cleans_up)
{
	struct daemon_proc d;
	int status;

	start_three(&d);
	ck_assert_int_ne(find_child(d.pid, "vdc-worker-0"), 0);
	ck_assert_int_ne(find_child(d.pid, "vdc-worker-1"), 0);
	ck_assert_int_ne(find_child(d.pid, "vdc-worker-2"), 0);
	ck_assert_int_eq(find_child(d.pid, "vdc-worker-3"), 0);

	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %#x", status);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(!path_exists(sock[i]), "%s left behind", sock[i]);
}
END_TEST

START_TEST(test_sigint_and_sighup_stop_with_status_zero)
{
	int sigs[] = {SIGINT, SIGHUP};

	for (int i = 0; i < 2; i++) {
		struct daemon_proc d;
		int status;

		start_three(&d);
		status = daemon_stop(&d, sigs[i], 5000);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "signal %d: status %#x", sigs[i], status);
		ck_assert(!path_exists(sock[0]));
	}
}
END_TEST

START_TEST(test_killed_worker_is_restarted_others_untouched)
{
	struct daemon_proc d;
	pid_t w0, w1, w2, w1_new;
	int status, fd;

	start_three(&d);
	w0 = find_child(d.pid, "vdc-worker-0");
	w1 = find_child(d.pid, "vdc-worker-1");
	w2 = find_child(d.pid, "vdc-worker-2");
	ck_assert(w0 && w1 && w2);

	ck_assert_int_eq(kill(w1, SIGKILL), 0);
	w1_new = wait_for_child(d.pid, "vdc-worker-1", w1, 5000);
	ck_assert_msg(w1_new != 0, "worker 1 not restarted; log:\n%s",
		      daemon_log(&d));
	ck_assert_int_ne(w1_new, w1);
	ck_assert_int_eq(find_child(d.pid, "vdc-worker-0"), w0);
	ck_assert_int_eq(find_child(d.pid, "vdc-worker-2"), w2);

	/* Its socket is still there and the new worker serves it. */
	fd = connect_unix(sock[1]);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_ptr_nonnull(strstr(daemon_log(&d), "killed by signal 9"));

	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_second_daemon_on_same_path_refused)
{
	struct daemon_proc d;
	struct run_result *r = malloc(sizeof(*r));
	const char *a[] = {"-s", prefix, "-b", "network", "-p", "23510", NULL};
	int status;

	ck_assert_ptr_nonnull(r);
	start_three(&d);
	run_daemon(a, 5000, r);
	ck_assert(WIFEXITED(r->status));
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "another process is listening"),
		      "stderr: %s", r->err);
	/* The first daemon's socket survives the attempt. */
	ck_assert(wait_for_socket(sock[0], 1000));
	free(r);
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_stale_socket_is_replaced)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct daemon_proc d;
	int fd, status;
	const char *a[] = {"-s", prefix, NULL};

	/* A bound socket nobody listens on: what a dead daemon leaves. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(sa.sun_path, sock[0], sizeof(sa.sun_path) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert(path_exists(sock[0]));

	daemon_start(&d, dir, a);
	ck_assert_msg(wait_for_socket(sock[0], 5000), "log:\n%s",
		      daemon_log(&d));
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(test_path_that_is_not_a_socket_is_refused)
{
	struct run_result *r = malloc(sizeof(*r));
	const char *a[] = {"-s", prefix, NULL};
	FILE *f = fopen(sock[0], "w");

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(f);
	fputs("precious\n", f);
	fclose(f);
	run_daemon(a, 5000, r);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "exists and is not a socket"),
		      "stderr: %s", r->err);
	ck_assert(path_exists(sock[0]));
	free(r);
}
END_TEST

START_TEST(test_bind_failure_exits_nonzero_and_cleans_up)
{
	struct run_result *r = malloc(sizeof(*r));
	char bad[160];
	const char *a[] = {"-s", prefix, "-b", "uds", "--uds-path", bad, NULL};

	ck_assert_ptr_nonnull(r);
	snprintf(bad, sizeof(bad), "%s/no-such-dir/con", dir);
	run_daemon(a, 5000, r);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "cannot start") &&
			      strstr(r->err, "no-such-dir/con0"),
		      "stderr: %s", r->err);
	/* The vhost-user socket created before the failure is removed. */
	ck_assert(!path_exists(sock[0]));
	free(r);
}
END_TEST

START_TEST(test_port_in_use_exits_nonzero)
{
	struct daemon_proc d;
	struct run_result *r = malloc(sizeof(*r));
	char other[160];
	const char *a[] = {"-s", other, "-b", "network", "-p", "23500", NULL};

	ck_assert_ptr_nonnull(r);
	start_three(&d); /* holds 23500..23502 */
	snprintf(other, sizeof(other), "%s/other", dir);
	run_daemon(a, 5000, r);
	ck_assert_int_eq(WEXITSTATUS(r->status), 1);
	ck_assert_msg(strstr(r->err, "127.0.0.1:23500: bind"), "stderr: %s",
		      r->err);
	free(r);
	daemon_stop(&d, SIGTERM, 5000);
}
END_TEST

START_TEST(test_nothing_on_stdout)
{
	struct daemon_proc d;
	const char *a[] = {"-s",
			   prefix,
			   "-b",
			   "network",
			   "-p",
			   "23520",
			   "--log-level=trace",
			   NULL};
	int p[2], status;
	char buf[64];

	ck_assert_int_eq(pipe(p), 0);
	d.pid = fork();
	if (d.pid == 0) {
		char *argv[16] = {(char *)daemon_path()};

		for (int i = 0; a[i]; i++)
			argv[i + 1] = (char *)a[i];
		dup2(p[1], 1);
		dup2(open("/dev/null", O_WRONLY), 2); /* stdout matters */
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	ck_assert(wait_for_socket(sock[0], 5000));
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
}
END_TEST

Suite *process_suite(void)
{
	Suite *s = suite_create("process");
	TCase *tc = tcase_create("supervision");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       test_three_sockets_three_workers_and_sigterm_cleans_up);
	tcase_add_test(tc, test_sigint_and_sighup_stop_with_status_zero);
	tcase_add_test(tc, test_killed_worker_is_restarted_others_untouched);
	tcase_add_test(tc, test_second_daemon_on_same_path_refused);
	tcase_add_test(tc, test_stale_socket_is_replaced);
	tcase_add_test(tc, test_path_that_is_not_a_socket_is_refused);
	tcase_add_test(tc, test_bind_failure_exits_nonzero_and_cleans_up);
	tcase_add_test(tc, test_port_in_use_exits_nonzero);
	tcase_add_test(tc, test_nothing_on_stdout);
	suite_add_tcase(s, tc);
	return s;
}
