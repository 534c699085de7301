/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_log_file.c - --console-log in the daemon: every byte of the guest's
 * console output in PATH + i, with a client or without, mode 0600; a
 * SIGUSR1 after the file was moved starts a new one and loses nothing.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

static struct session s;
static struct fe fe;
static char log_arg[160], log_path[160];

static void start(bool timestamps)
{
	char dir[64];
	const char *extra[] = {log_arg,
			       timestamps ? "--console-log-timestamps" : NULL,
			       NULL};

	make_tmpdir(dir, sizeof(dir));
	snprintf(log_arg, sizeof(log_arg), "--console-log=%s/guest-", dir);
	snprintf(log_path, sizeof(log_path), "%s/guest-0", dir);
	session_start(&s, extra);
}

static void teardown(void)
{
	char dir[160];

	fe_close(&fe);
	session_stop(&s);
	snprintf(dir, sizeof(dir), "%s", log_path);
	*strrchr(dir, '/') = '\0';
	remove_tree(dir);
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

	ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX, text,
				      strlen(text), (uint32_t)strlen(text),
				      false),
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
	ck_assert(log_has(&s, "reopen", 3000));
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

Suite *log_file_suite(void)
{
	Suite *su = suite_create("log_file");
	TCase *tc = tcase_create("daemon");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_output_goes_to_the_log_with_and_without_a_client);
	tcase_add_test(tc, test_reopen_after_a_move_loses_nothing);
	tcase_add_test(tc, test_timestamps_start_each_line);
	suite_add_tcase(su, tc);
	return su;
}
