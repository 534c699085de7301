/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_log_file.c - --console-log in the daemon: every byte of the guest's
 * console output in PATH + i, with a client or without, mode 0600; a
 * SIGUSR1 after the file was moved starts a new one and loses nothing; a
 * restarted worker whose log cannot be opened serves the guest and gets
 * its log back; losses to a FIFO nobody reads are in the daemon's log at
 * once; an asciicast recording with the console's size.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

static struct session s;
static struct fe fe;
static char log_arg[160], log_path[160];

static char log_dir[64];

/* The log in a fresh directory, or in @sub of it ("" for none). */
static void start_with(const char *sub, const char *const more[])
{
	const char *extra[8] = {log_arg};
	char dir[128];
	size_t n = 1;

	make_tmpdir(log_dir, sizeof(log_dir));
	snprintf(dir, sizeof(dir), "%s%s", log_dir, sub);
	if (*sub)
		ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(log_arg, sizeof(log_arg), "--console-log=%s/guest-", dir);
	snprintf(log_path, sizeof(log_path), "%s/guest-0", dir);
	for (; more && *more && n < 7; more++)
		extra[n++] = *more;
	session_start(&s, extra);
}

static void start(bool timestamps)
{
	const char *more[] = {timestamps ? "--console-log-timestamps" : NULL,
			      NULL};

	start_with("", more);
}

static void teardown(void)
{
	/* Not every test starts the daemon. */
	if (s.d.pid) {
		fe_close(&fe);
		session_stop(&s);
	}
	remove_tree(log_dir);
}

/* The file's contents once it has @len bytes (or what it has by then). */
static char *file_with(const char *path, size_t len, size_t *got)
{
	static char buf[1 << 16];
	long end = now_ms() + 5000;
	FILE *f;

	do {
		*got = 0;
		f = fopen(path, "r");
		if (f) {
			*got = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		if (*got >= len)
			break;
		sleep_ms(20);
	} while (now_ms() < end);
	buf[*got] = '\0';
	return buf;
}

static void guest_says(const char *text)
{
	uint16_t id;
	uint32_t len;

	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, text, strlen(text),
				      (uint32_t)strlen(text), false),
			 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	for (long end = now_ms() + 3000;
	     fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len) != 1 &&
	     now_ms() < end;)
		fe_wait_call(&fe, CONSOLE_QUEUE_TX, 20);
}

START_TEST(test_output_goes_to_the_log_with_and_without_a_client)
{
	struct stat st;
	char late[32];
	size_t got;
	char *text;

	start(false);
	session_console(&s, &fe, FE_STYLE_QEMU);

	guest_says("boot line, nobody listening\n");
	ck_assert(read_exact(session_client(&s), late, 28, 3000));
	tx_and_expect(&s, &fe, "typed and seen\n", 15, 15, false);
	text = file_with(log_path, 43, &got);
	ck_assert_str_eq(text, "boot line, nobody listening\ntyped and seen\n");
	ck_assert_int_eq(stat(log_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_reopen_after_a_move_loses_nothing)
{
	char moved[200];
	size_t got;
	char *text;

	start(false);
	session_console(&s, &fe, FE_STYLE_QEMU);
	guest_says("before\n");
	text = file_with(log_path, 7, &got);
	ck_assert_str_eq(text, "before\n");
	snprintf(moved, sizeof(moved), "%s.1", log_path);
	ck_assert_int_eq(rename(log_path, moved), 0);
	guest_says("between\n");
	ck_assert_int_eq(kill(s.d.pid, SIGUSR1), 0);
	/* The worker's own line, not the supervisor's "reopening". */
	ck_assert(log_has(&s, "guest-0: reopened", 5000));
	guest_says("after\n");
	text = file_with(log_path, 6, &got);
	ck_assert_str_eq(text, "after\n");
	text = file_with(moved, 15, &got);
	ck_assert_str_eq(text, "before\nbetween\n");
	/* The daemon goes on: SIGUSR1 is not a stop. */
	ck_assert_int_eq(kill(s.d.pid, 0), 0);
}
END_TEST

START_TEST(test_timestamps_start_each_line)
{
	size_t got;
	char *text;

	start(true);
	session_console(&s, &fe, FE_STYLE_QEMU);
	guest_says("one\ntw");
	guest_says("o\n");
	text = file_with(log_path, 2 * 25 + 8, &got);
	ck_assert_uint_eq(got, 2 * 25 + 8);
	/* "2026-12-02T13:56:06.123Z one\n...Z two\n" */
	ck_assert_int_eq(text[4], '-');
	ck_assert_int_eq(text[23], 'Z');
	ck_assert(strncmp(text + 25, "one\n", 4) == 0);
	ck_assert_int_eq(text[29 + 23], 'Z');
	ck_assert(strncmp(text + 29 + 25, "two\n", 4) == 0);
}
END_TEST

/* The guest writes @len bytes of @c, 64 KiB a buffer chain. */
static void guest_floods(size_t len, char c)
{
	static char chunk[64 * 1024];
	uint16_t id;
	uint32_t got;

	memset(chunk, c, sizeof(chunk));
	for (size_t done = 0; done < len; done += sizeof(chunk)) {
		ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, chunk,
					      sizeof(chunk), 4096, false),
				 0);
		fe_publish(&fe, CONSOLE_QUEUE_TX);
		for (long end = now_ms() + 5000;
		     fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &got) != 1;) {
			ck_assert_msg(now_ms() < end,
				      "the daemon took no output");
			fe_wait_call(&fe, CONSOLE_QUEUE_TX, 20);
		}
	}
}

/* The log's directory is gone and the worker is killed: the restarted
 * worker serves the guest all the same, says why the log is missing,
 * and writes it again once the directory is back. */
START_TEST(test_restarted_worker_serves_without_its_log)
{
	char dir[160];
	pid_t again;
	size_t got;
	char *text;

	start_with("/logs", NULL);
	snprintf(dir, sizeof(dir), "%s/logs", log_dir);
	session_console(&s, &fe, FE_STYLE_QEMU);
	guest_says("one\n");
	text = file_with(log_path, 4, &got);
	ck_assert_str_eq(text, "one\n");
	remove_tree(dir);
	ck_assert_int_eq(kill(s.worker, SIGKILL), 0);
	again = wait_for_child(s.d.pid, "vdc-worker-0", s.worker, 10000);
	ck_assert_msg(again, "no worker came back; log:\n%s", daemon_log(&s.d));
	s.worker = again;
	ck_assert_msg(
		log_has(&s,
			"cannot open it (No such file or directory); the console goes on without its log",
			5000),
		"log:\n%s", daemon_log(&s.d));
	fe_close(&fe);
	close(s.client);
	s.client = -1;
	session_console(&s, &fe, FE_STYLE_QEMU);
	tx_and_expect(&s, &fe, "served\n", 7, 7, false);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_msg(log_has(&s, "reopened", 10000), "log:\n%s",
		      daemon_log(&s.d));
	guest_says("back\n");
	text = file_with(log_path, 5, &got);
	ck_assert_msg(
		strstr(text,
		       "bytes of the console log dropped: cannot open the log file: No such file or directory]\n") &&
			strstr(text, "back\n"),
		"log file: %s", text);
	ck_assert_int_eq(kill(s.d.pid, 0), 0);
}
END_TEST

/* The log is a FIFO whose reader never reads: 8 MiB overflow the 1 MiB
 * queue, and the daemon's log says so while the writer is still stuck. */
START_TEST(test_losses_to_a_log_nobody_reads_are_logged)
{
	int rfd;

	make_tmpdir(log_dir, sizeof(log_dir));
	snprintf(log_path, sizeof(log_path), "%s/guest-0", log_dir);
	ck_assert_int_eq(mkfifo(log_path, 0600), 0);
	rfd = open(log_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);
	snprintf(log_arg, sizeof(log_arg), "--console-log=%s/guest-", log_dir);
	session_start(&s, (const char *const[]){log_arg, NULL});
	session_console(&s, &fe, FE_STYLE_QEMU);
	guest_floods(8 << 20, 'z');
	ck_assert_msg(
		log_has(&s,
			"bytes of console output dropped: the log file could not keep up",
			3000),
		"log:\n%s", daemon_log(&s.d));
	close(rfd);
}
END_TEST

/* --console-log-format=asciicast: the header has --console-size, the
 * events the guest's text, and Python's reader takes every line. */
START_TEST(test_asciicast_recording_of_the_console)
{
	static const char head[] =
		"{\"version\": 2, \"width\": 100, \"height\": 30, \"timestamp\": ";
	const char *more[] = {"--console-log-format=asciicast",
			      "--console-size=100x30", NULL};
	char cmd[512];
	char out[256] = "";
	size_t got;
	char *text;
	FILE *p;

	start_with("", more);
	session_console(&s, &fe, FE_STYLE_QEMU);
	guest_says("h\xc3\xa9llo\r\n");
	text = file_with(log_path, 95, &got);
	ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "file: %s", text);
	ck_assert_msg(strstr(text, ", \"o\", \"h\xc3\xa9llo\\r\\n\"]\n"),
		      "file: %s", text);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 '%s/tests/asciicast-check.py' '%s'",
		 srcdir(), log_path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	got = fread(out, 1, sizeof(out) - 1, p);
	out[got] = '\0';
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_str_eq(out, "h\xc3\xa9llo\r\n");
}
END_TEST

/* At the daemon's first start a log that cannot be opened is the command
 * line's error: exit status 1, the path and the reason said. */
START_TEST(test_bad_log_path_at_first_start_is_an_error)
{
	static struct run_result res;
	char vu[160], con[160], arg[200];
	const char *args[] = {"-s", vu,	 "--backend=uds", "--uds-path", con,
			      arg,  NULL};

	make_tmpdir(log_dir, sizeof(log_dir));
	snprintf(vu, sizeof(vu), "%s/vu", log_dir);
	snprintf(con, sizeof(con), "%s/con", log_dir);
	snprintf(arg, sizeof(arg), "--console-log=%s/gone/guest-", log_dir);
	run_daemon(args, 10000, &res);
	ck_assert_msg(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 1,
		      "status %d; stderr: %s", res.status, res.err);
	ck_assert_msg(strstr(res.err, "cannot open the console log ") &&
			      strstr(res.err,
				     "/gone/guest-0: No such file or directory"),
		      "stderr: %s", res.err);
}
END_TEST

Suite *log_file_suite(void)
{
	Suite *su = suite_create("log_file");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc,
		       test_output_goes_to_the_log_with_and_without_a_client);
	tcase_add_test(tc, test_reopen_after_a_move_loses_nothing);
	tcase_add_test(tc, test_timestamps_start_each_line);
	tcase_add_test(tc, test_restarted_worker_serves_without_its_log);
	tcase_add_test(tc, test_losses_to_a_log_nobody_reads_are_logged);
	tcase_add_test(tc, test_asciicast_recording_of_the_console);
	tcase_add_test(tc, test_bad_log_path_at_first_start_is_an_error);
	suite_add_tcase(su, tc);
	return su;
}
