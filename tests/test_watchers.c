/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_watchers.c - several clients on one console: the first types (the
 * writer), the others watch; each has its own place in the output; a slow
 * watcher slows nobody, loses its oldest bytes and is told how many; the
 * longest-connected watcher takes over when the writer leaves; beyond
 * --max-clients a client is told the console is full.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "session.h"
#include "suites.h"

SESSION_FIXTURE("--max-clients=3", "--output-buffer=256K")

/* Read what @fd has within @ms into @buf (NUL-terminated). */
static size_t read_some(int fd, char *buf, size_t cap, int ms)
{
	size_t have = 0;
	long end = now_ms() + ms;

	while (have < cap - 1) {
		struct pollfd p = {fd, POLLIN, 0};
		long left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

START_TEST(test_writer_and_two_watchers_see_the_same_output)
{
	char got[64];
	int w1, w2;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	w1 = session_watcher(&s);
	w2 = session_watcher(&s);
	tx_and_expect(&s, &fe, "uname -a\r\nLinux\r\n", 17, 17, false);
	ck_assert(read_exact(w1, got, 17, 3000));
	ck_assert(memcmp(got, "uname -a\r\nLinux\r\n", 17) == 0);
	ck_assert(read_exact(w2, got, 17, 3000));
	ck_assert(memcmp(got, "uname -a\r\nLinux\r\n", 17) == 0);
	close(w1);
	close(w2);
}
END_TEST

START_TEST(test_watcher_typing_is_discarded_and_told_once)
{
	char got[256];
	int w;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	w = session_watcher(&s);
	write_all(w, "rm -rf /\r", 9);
	read_some(w, got, sizeof(got), 500);
	ck_assert_msg(strstr(got, "you are watching"), "got \"%s\"", got);
	write_all(w, "again\r", 6);
	read_some(w, got, sizeof(got), 300);
	ck_assert_msg(!strstr(got, "you are watching"), "told twice");
	/* The writer's input alone reaches the guest. */
	write_all(s.client, "ok", 2);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 2);
	ck_assert(memcmp(got, "ok", 2) == 0);
	ck_assert_int_lt(fe_read_rx(&fe, got, sizeof(got), 200), 0);
	close(w);
}
END_TEST

START_TEST(test_longest_connected_watcher_becomes_the_writer)
{
	char got[256];
	int w1, w2;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	w1 = session_watcher(&s);
	w2 = session_watcher(&s);
	close(s.client);
	s.client = -1;
	read_some(w1, got, sizeof(got), 1000);
	ck_assert_msg(strstr(got, "you are the writer now"), "w1 got \"%s\"",
		      got);
	read_some(w2, got, sizeof(got), 200);
	ck_assert(!strstr(got, "writer"));
	write_all(w1, "w1", 2);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 2);
	ck_assert(memcmp(got, "w1", 2) == 0);
	write_all(w2, "w2", 2);
	ck_assert_int_lt(fe_read_rx(&fe, got, sizeof(got), 300), 0);
	close(w1);
	close(w2);
}
END_TEST

START_TEST(test_beyond_max_clients_told_full)
{
	char got[256];
	int w1, w2, extra;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	w1 = session_watcher(&s);
	w2 = session_watcher(&s);
	extra = connect_unix(s.uds_path);
	ck_assert_int_ge(extra, 0);
	read_some(extra, got, sizeof(got), 2000);
	ck_assert_msg(strstr(got, "this console is full"), "got \"%s\"", got);
	ck_assert_int_eq(read(extra, got, 1), 0); /* closed */
	close(extra);
	tx_and_expect(&s, &fe, "fine", 4, 4, false);
	close(w1);
	close(w2);
}
END_TEST

START_TEST(test_watcher_that_never_reads_slows_nobody_and_is_told)
{
	static uint8_t got[64 << 10];
	const size_t step = sizeof(got), total = 2 << 20;
	static char seen[4 << 20];
	const char *note;
	size_t have;
	int lazy, small = 4096;

	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	lazy = session_watcher(&s);
	setsockopt(lazy, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	/* 2 MiB (32 times the buffer), the writer reading along, the watcher
	 * reading nothing: the writer gets every byte. */
	for (size_t done = 0; done < total; done += step) {
		guest_writes_letters(&fe, step, done);
		ck_assert_msg(read_exact(s.client, got, step, 5000),
			      "writer stuck at %zu; log:\n%s", done,
			      daemon_log(&s.d));
		ck_assert_int_eq(got[0], 'a' + (int)((done / 4096) % 26));
		ck_assert_int_eq(got[step - 1],
				 'a' + (int)(((done + step) / 4096 - 1) % 26));
	}
	ck_assert(!strstr(daemon_log(&s.d), "console client is slow"));
	/* The watcher then gets its oldest bytes, a note, and the newest. */
	have = read_some(lazy, seen, sizeof(seen), 2000);
	note = memmem(seen, have, "bytes of output dropped here", 28);
	ck_assert_msg(note, "no note in %zu bytes; log:\n%s", have,
		      daemon_log(&s.d));
	ck_assert(have < total);
	close(lazy);
}
END_TEST

/*
 * A watcher that resets its connection is dropped in the middle of a
 * batch's delivery: the writer still gets the batch exactly, and the
 * guest gets its own chains back (not some of its receive buffers).
 */
START_TEST(test_client_dropped_mid_delivery_leaves_the_batch_intact)
{
	static uint8_t data[8 * 4096], got[sizeof(data)];
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	uint16_t id;
	uint32_t len;
	unsigned int back = 0;
	int w;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + i / 4096);
	session_console(&s, &fe, FE_STYLE_QEMU);
	session_client(&s);
	w = session_watcher(&s);
	/* The writer has typed nothing; the guest has receive buffers. */
	ck_assert_int_eq(setsockopt(w, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
			 0);
	close(w); /* a reset: the next write to it fails */
	for (unsigned int i = 0; i < 8; i++)
		ck_assert_int_eq(fe_submit_tx(&fe, CONSOLE_QUEUE_TX,
					      data + i * 4096, 4096, 4096,
					      false),
				 0);
	fe_publish(&fe, CONSOLE_QUEUE_TX);
	ck_assert_msg(read_exact(s.client, got, sizeof(got), 5000),
		      "log:\n%s", daemon_log(&s.d));
	ck_assert(memcmp(got, data, sizeof(data)) == 0);
	for (long end = wait_deadline(3000); back < 8 && now_ms() < end;) {
		if (fe_get_used(&fe, CONSOLE_QUEUE_TX, &id, &len) == 1)
			back++;
		else
			fe_wait_call(&fe, CONSOLE_QUEUE_TX, 20);
	}
	ck_assert_uint_eq(back, 8);
	tx_and_expect(&s, &fe, "still fine", 10, 10, false);
	write_all(s.client, "in", 2);
	ck_assert_int_eq(fe_read_rx(&fe, got, sizeof(got), 3000), 2);
}
END_TEST

Suite *watchers_suite(void)
{
	Suite *su = suite_create("watchers");
	TCase *tc = tcase_create("console");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_writer_and_two_watchers_see_the_same_output);
	tcase_add_test(tc, test_watcher_typing_is_discarded_and_told_once);
	tcase_add_test(tc, test_longest_connected_watcher_becomes_the_writer);
	tcase_add_test(tc, test_beyond_max_clients_told_full);
	tcase_add_test(tc, test_watcher_that_never_reads_slows_nobody_and_is_told);
	tcase_add_test(tc, test_client_dropped_mid_delivery_leaves_the_batch_intact);
	suite_add_tcase(su, tc);
	return su;
}
