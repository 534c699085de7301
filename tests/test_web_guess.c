/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web_guess.c - the web console's guessing limit (web_guess.h) on
 * its own, on a clock the test drives: the documented bound holds for a
 * guesser that books as fast as it can, another uid is never slowed, a
 * right proof and a quiet spell start afresh, and a process killed while
 * it holds the table's lock wedges nobody.
 */
#include <check.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"
#include "web_guess.h"

static struct web_guess_table *t;

static void setup(void)
{
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(t, MAP_FAILED);
	ck_assert_int_eq(web_guess_init(t), 0);
}

static void teardown(void)
{
	munmap(t, sizeof(*t));
}

/* book() - book a proof of @uid at @now; its turn, or -1 if refused */
static long long book(uid_t uid, uint64_t now)
{
	uint64_t at = 0;

	if (web_guess_book(t, uid, now, &at) != WEB_GUESS_CHECK)
		return -1;
	ck_assert_uint_ge(at, now);
	return (long long)at;
}

START_TEST(test_delays_double_up_to_the_cap)
{
	ck_assert_uint_eq(web_guess_delay_ms(0), 0);
	ck_assert_uint_eq(web_guess_delay_ms(1), 500);
	ck_assert_uint_eq(web_guess_delay_ms(2), 1000);
	ck_assert_uint_eq(web_guess_delay_ms(6), 16000);
	ck_assert_uint_eq(web_guess_delay_ms(7), 30000);
	ck_assert_uint_eq(web_guess_delay_ms(1000), 30000);
}
END_TEST

/* Proofs that arrive together are checked one at a time, spaced. */
START_TEST(test_bookings_are_spaced)
{
	const uint64_t t0 = 1000000;

	ck_assert_int_eq(book(1000, t0), t0);
	ck_assert_int_eq(book(1000, t0), t0 + 500);
	ck_assert_int_eq(book(1000, t0), t0 + 1500);
	ck_assert_int_eq(book(1000, t0), t0 + 3500);
	ck_assert_int_eq(book(1000, t0), t0 + 7500);
	ck_assert_int_eq(book(1000, t0), t0 + 15500);
	/* More than WEB_GUESS_MAX_MS away: refused, nothing booked. */
	ck_assert_int_eq(book(1000, t0), -1);
	ck_assert_int_eq(book(1000, t0 + 1500), t0 + 31500);
	ck_assert_uint_eq(t->checks, 7);
}
END_TEST

/* A stranger's failures never delay the owner. */
START_TEST(test_another_uid_is_not_slowed)
{
	const uint64_t t0 = 1000000;

	for (int i = 0; i < 6; i++)
		book(65534, t0);
	ck_assert_int_eq(book(0, t0), t0);
	ck_assert_int_eq(book(1000, t0 + 1), t0 + 1);
}
END_TEST

START_TEST(test_right_proof_and_quiet_spell_start_afresh)
{
	const uint64_t t0 = 1000000;

	book(1000, t0);
	book(1000, t0);
	ck_assert_int_eq(book(1000, t0), t0 + 1500);
	web_guess_right(t, 1000, t0 + 1500);
	ck_assert_int_eq(book(1000, t0 + 1600), t0 + 1600);
	/* Wrong again, then WEB_GUESS_FORGET_MS of quiet. */
	ck_assert_int_eq(book(1000, t0 + 1700), t0 + 2100);
	ck_assert_int_eq(book(1000, t0 + 2200 + WEB_GUESS_FORGET_MS),
			 t0 + 2200 + WEB_GUESS_FORGET_MS);
}
END_TEST

/*
 * The documented limit: a guesser that books whenever it may (every
 * 10 ms, with as many connections as it likes) gets at most
 * WEB_GUESS_BURST + T/30 s proofs checked in any T.
 */
START_TEST(test_documented_bound_holds)
{
	const uint64_t t0 = 5000000, span = 1800000; /* half an hour */
	uint64_t checks[400];
	unsigned int n = 0;

	for (uint64_t now = t0; now < t0 + span; now += 10) {
		long long at = book(65534, now);

		if (at >= 0 && n < 400)
			checks[n++] = (uint64_t)at;
	}
	ck_assert_uint_lt(n, 400);
	for (unsigned int i = 0; i < n; i++) {
		for (unsigned int j = i; j < n; j++) {
			uint64_t window = checks[j] - checks[i];

			ck_assert_uint_le(j - i + 1,
					  WEB_GUESS_BURST + window / 30000);
		}
	}
	ck_assert_uint_ge(n, span / 30000 - 1);
}
END_TEST

/* More uids than entries: the late ones share the last, stricter. */
START_TEST(test_table_full_shares_the_last_entry)
{
	const uint64_t t0 = 1000000;

	for (uid_t u = 1; u < WEB_GUESS_UIDS; u++)
		ck_assert_int_eq(book(u, t0), t0);
	ck_assert_int_eq(book(5000, t0), t0);
	ck_assert_int_eq(book(5001, t0), t0 + 500);
	/* Known uids keep their own. */
	ck_assert_int_eq(book(3, t0 + 100), t0 + 500);
}
END_TEST

/* A worker killed while it holds the lock: the next one gets it. */
START_TEST(test_holder_killed_mid_update_wedges_nobody)
{
	const uint64_t t0 = 1000000;
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pthread_mutex_lock(&t->lock);
		t->e[0].next_ms = UINT64_MAX; /* half an update */
		t->e[0].used = 1;
		t->e[0].failures = 3;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_ge(book(t->e[0].uid, t0), 0);
	ck_assert_int_eq(book(1000, t0), t0);
	ck_assert_int_eq(book(1000, t0), t0 + 500);
}
END_TEST

Suite *web_guess_suite(void)
{
	Suite *su = suite_create("web_guess");
	TCase *tc = tcase_create("limit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_delays_double_up_to_the_cap);
	tcase_add_test(tc, test_bookings_are_spaced);
	tcase_add_test(tc, test_another_uid_is_not_slowed);
	tcase_add_test(tc, test_right_proof_and_quiet_spell_start_afresh);
	tcase_add_test(tc, test_documented_bound_holds);
	tcase_add_test(tc, test_table_full_shares_the_last_entry);
	tcase_add_test(tc, test_holder_killed_mid_update_wedges_nobody);
	suite_add_tcase(su, tc);
	return su;
}
