/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_web_ticket.c - one-time web console tickets (web_ticket.h) on
 * their own, on a clock the test drives: a ticket opens its own guest
 * once, before its expiry; watch-only is kept; a full table refuses to
 * mint; the TTL's forms; and of many processes racing with one ticket,
 * exactly one spends it. Also the control protocol's `ticket` request.
 */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "suites.h"
#include "web_ticket.h"

static struct web_ticket_table *t;

static void setup(void)
{
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(t, MAP_FAILED);
}

static void teardown(void)
{
	munmap(t, sizeof(*t));
}

static void secret_of(uint8_t s[WEB_TICKET_LEN], unsigned int n)
{
	memset(s, 0x5a, WEB_TICKET_LEN);
	memcpy(s, &n, sizeof(n));
}

START_TEST(test_spent_once)
{
	uint8_t s[WEB_TICKET_LEN];

	secret_of(s, 1);
	ck_assert_int_eq(web_ticket_mint(t, 1, 30000, false, 1000, s), 0);
	ck_assert_int_eq(web_ticket_spend(t, 1, s, 1001), WEB_TICKET_FULL);
	ck_assert_int_eq(web_ticket_spend(t, 1, s, 1002), WEB_TICKET_REFUSED);
}
END_TEST

START_TEST(test_expires_unused)
{
	uint8_t s[WEB_TICKET_LEN];

	secret_of(s, 2);
	ck_assert_int_eq(web_ticket_mint(t, 0, 30000, false, 1000, s), 0);
	ck_assert_int_eq(web_ticket_spend(t, 0, s, 31000), WEB_TICKET_REFUSED);
	secret_of(s, 3);
	ck_assert_int_eq(web_ticket_mint(t, 0, 30000, false, 1000, s), 0);
	ck_assert_int_eq(web_ticket_spend(t, 0, s, 30999), WEB_TICKET_FULL);
}
END_TEST

START_TEST(test_other_guest_and_unknown_refused)
{
	uint8_t s[WEB_TICKET_LEN], other[WEB_TICKET_LEN];

	secret_of(s, 4);
	secret_of(other, 5);
	ck_assert_int_eq(web_ticket_mint(t, 0, 30000, false, 1000, s), 0);
	ck_assert_int_eq(web_ticket_spend(t, 1, s, 1001), WEB_TICKET_REFUSED);
	ck_assert_int_eq(web_ticket_spend(t, 0, other, 1001),
			 WEB_TICKET_REFUSED);
	/* Neither spent it: its own guest still gets in, once. */
	ck_assert_int_eq(web_ticket_spend(t, 0, s, 1002), WEB_TICKET_FULL);
	ck_assert_int_eq(web_ticket_spend(t, 0, s, 1003), WEB_TICKET_REFUSED);
}
END_TEST

START_TEST(test_watch_only_kept)
{
	uint8_t s[WEB_TICKET_LEN];

	secret_of(s, 6);
	ck_assert_int_eq(web_ticket_mint(t, 2, 1000, true, 0, s), 0);
	ck_assert_int_eq(web_ticket_spend(t, 2, s, 1), WEB_TICKET_WATCH);
}
END_TEST

START_TEST(test_full_table_then_expiry_frees)
{
	uint8_t s[WEB_TICKET_LEN];

	for (unsigned int i = 0; i < WEB_TICKET_SLOTS; i++) {
		secret_of(s, 100 + i);
		ck_assert_int_eq(web_ticket_mint(t, 0, 1000, false, 0, s), 0);
	}
	secret_of(s, 999);
	ck_assert_int_eq(web_ticket_mint(t, 0, 1000, false, 10, s), -EBUSY);
	/* Spending one frees its slot; expiry frees the rest. */
	secret_of(s, 100);
	ck_assert_int_eq(web_ticket_spend(t, 0, s, 10), WEB_TICKET_FULL);
	secret_of(s, 999);
	ck_assert_int_eq(web_ticket_mint(t, 0, 1000, false, 10, s), 0);
	secret_of(s, 998);
	ck_assert_int_eq(web_ticket_mint(t, 0, 1000, false, 10, s), -EBUSY);
	ck_assert_int_eq(web_ticket_mint(t, 0, 1000, false, 1000, s), 0);
	/* The reused slot's old ticket is gone with it. */
	secret_of(s, 101);
	ck_assert_int_eq(web_ticket_spend(t, 0, s, 1000), WEB_TICKET_REFUSED);
	ck_assert_int_eq(web_ticket_mint(t, 0, 0, false, 0, s), -EINVAL);
	ck_assert_int_eq(web_ticket_mint(t, 0, WEB_TICKET_MAX_MS + 1, false, 0, s),
			 -EINVAL);
}
END_TEST

/* Processes released together race for one ticket: one wins. */
START_TEST(test_racers_spend_it_once)
{
	enum { RACERS = 8, ROUNDS = 200 };
	uint8_t s[WEB_TICKET_LEN];
	int *go = mmap(NULL, sizeof(int) * (RACERS + 1), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(go, MAP_FAILED);
	for (unsigned int r = 0; r < ROUNDS; r++) {
		pid_t pid[RACERS];
		int wins = 0, status;

		secret_of(s, 5000 + r);
		ck_assert_int_eq(web_ticket_mint(t, 0, 30000, false, 0, s), 0);
		__atomic_store_n(&go[RACERS], 0, __ATOMIC_SEQ_CST);
		for (int i = 0; i < RACERS; i++) {
			pid[i] = fork();
			ck_assert_int_ge(pid[i], 0);
			if (pid[i] == 0) {
				while (!__atomic_load_n(&go[RACERS], __ATOMIC_SEQ_CST))
					;
				_exit(web_ticket_spend(t, 0, s, 1) == WEB_TICKET_FULL);
			}
		}
		__atomic_store_n(&go[RACERS], 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < RACERS; i++) {
			ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
			ck_assert(WIFEXITED(status));
			wins += WEXITSTATUS(status);
		}
		ck_assert_int_eq(wins, 1);
	}
	munmap(go, sizeof(int) * (RACERS + 1));
}
END_TEST

START_TEST(test_ttl_forms)
{
	uint32_t ms = 0;

	ck_assert_int_eq(web_ticket_parse_ttl("30", &ms), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(web_ticket_parse_ttl("45s", &ms), 0);
	ck_assert_uint_eq(ms, 45000);
	ck_assert_int_eq(web_ticket_parse_ttl("10m", &ms), 0);
	ck_assert_uint_eq(ms, 600000);
	ck_assert_int_eq(web_ticket_parse_ttl("11m", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("601", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("0", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("-1", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("5h", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("5ss", &ms), -1);
	ck_assert_int_eq(web_ticket_parse_ttl("99999999999999999999", &ms), -1);
}
END_TEST

static enum ctl_error parse(const char *line, struct ctl_request *rq)
{
	char why[160];

	return ctl_parse(line, strlen(line), rq, why, sizeof(why));
}

START_TEST(test_ctl_ticket_request)
{
	struct ctl_request rq;

	ck_assert_int_eq(parse("ticket guest=3", &rq), CTL_ERR_NONE);
	ck_assert_int_eq(rq.cmd, CTL_CMD_TICKET);
	ck_assert_uint_eq(rq.guest, 3);
	ck_assert_uint_eq(rq.ttl_ms, WEB_TICKET_TTL_MS);
	ck_assert(!rq.watch_only);
	ck_assert_int_eq(parse("ticket watch ttl=2m guest=0", &rq), CTL_ERR_NONE);
	ck_assert_uint_eq(rq.ttl_ms, 120000);
	ck_assert(rq.watch_only);
	ck_assert_int_eq(parse("ticket", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket ttl=30", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=1 guest=2", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=-1", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=1x", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=1 ttl=11m", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=1 watch watch", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=1 write", &rq), CTL_ERR_BAD);
	ck_assert_int_eq(parse("ticket guest=99999999999999999999", &rq),
			 CTL_ERR_BAD);
}
END_TEST

Suite *web_ticket_suite(void)
{
	Suite *su = suite_create("web_ticket");
	TCase *tc = tcase_create("ticket");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_spent_once);
	tcase_add_test(tc, test_expires_unused);
	tcase_add_test(tc, test_other_guest_and_unknown_refused);
	tcase_add_test(tc, test_watch_only_kept);
	tcase_add_test(tc, test_full_table_then_expiry_frees);
	tcase_add_test(tc, test_racers_spend_it_once);
	tcase_add_test(tc, test_ttl_forms);
	tcase_add_test(tc, test_ctl_ticket_request);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(su, tc);
	return su;
}
