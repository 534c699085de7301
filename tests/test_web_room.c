/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web_room.c - who makes room for a newcomer among the web console's
 * unauthenticated connections: nobody while there is room, a uid at its
 * share its own oldest, a full room the biggest holder's oldest, and never
 * an authenticated session.
 */
#include <check.h>

#include "suites.h"
#include "web_room.h"

#define N	8
#define MAX	6
#define PER_UID 3

static struct web_place p[N];

static void setup(void)
{
	for (unsigned int i = 0; i < N; i++)
		p[i] = (struct web_place){0};
}

static void put(unsigned int i, uid_t uid, uint64_t since, bool authed)
{
	p[i] = (struct web_place){.used = true,
				  .authed = authed,
				  .uid = uid,
				  .since_ms = since};
}

START_TEST(test_room_left_displaces_nobody)
{
	put(0, 65534, 10, false);
	put(1, 65534, 20, false);
	put(2, 0, 5, false);
	ck_assert_int_eq(web_room_victim(p, N, 0, MAX, PER_UID), -1);
	ck_assert_int_eq(web_room_victim(p, N, 65534, MAX, PER_UID), -1);
}
END_TEST

START_TEST(test_uid_at_its_share_displaces_its_own_oldest)
{
	put(0, 0, 1, false); /* the owner's, the oldest of all */
	put(1, 65534, 30, false);
	put(2, 65534, 10, false);
	put(3, 65534, 20, false);
	ck_assert_int_eq(web_room_victim(p, N, 65534, MAX, PER_UID), 2);
	ck_assert_int_eq(web_room_victim(p, N, 0, MAX, PER_UID), -1);
}
END_TEST

START_TEST(test_full_room_displaces_the_biggest_holders_oldest)
{
	put(0, 0, 1, false);
	put(1, 1000, 2, false);
	put(2, 65534, 40, false);
	put(3, 65534, 30, false);
	put(4, 65534, 50, false);
	put(5, 1000, 3, false);
	/* A third uid: 65534 holds the most, its oldest goes. */
	ck_assert_int_eq(web_room_victim(p, N, 2000, MAX, PER_UID), 3);
	/* The owner too takes the place of 65534's oldest. */
	ck_assert_int_eq(web_room_victim(p, N, 0, MAX, PER_UID), 3);
}
END_TEST

START_TEST(test_authenticated_sessions_are_never_displaced)
{
	put(0, 65534, 1, true);
	put(1, 65534, 2, true);
	put(2, 65534, 3, true);
	put(3, 65534, 4, false);
	/* Authenticated places do not count against the share either. */
	ck_assert_int_eq(web_room_victim(p, N, 65534, MAX, PER_UID), -1);
	for (unsigned int i = 0; i < N; i++)
		put(i, 0, i, true);
	ck_assert_int_eq(web_room_victim(p, N, 0, MAX, PER_UID), -1);
	ck_assert_int_eq(web_room_victim(p, N, 65534, MAX, PER_UID), -1);
}
END_TEST

Suite *web_room_suite(void)
{
	Suite *su = suite_create("web_room");
	TCase *tc = tcase_create("rationing");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_room_left_displaces_nobody);
	tcase_add_test(tc, test_uid_at_its_share_displaces_its_own_oldest);
	tcase_add_test(tc, test_full_room_displaces_the_biggest_holders_oldest);
	tcase_add_test(tc, test_authenticated_sessions_are_never_displaced);
	suite_add_tcase(su, tc);
	return su;
}
