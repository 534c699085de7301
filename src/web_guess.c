/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_guess.c - book each web console proof's check at its uid's next free
 * time, across every worker (web_guess.h states the limit).
 *
 * The one hard decision: a booking counts as a failure before the proof
 * is checked. The check happens later, at the booked time, and only a
 * right proof takes the failure back; so what a guesser pays is decided
 * when the proof arrives, whatever it does afterwards, and a client that
 * closes early has paid for a guess it never hears the answer to.
 *
 * Times are CLOCK_MONOTONIC milliseconds, the same in every process.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "web_guess.h"

#define SHARED_ENTRY (WEB_GUESS_UIDS - 1)

/**
 * web_guess_init() - set up the table in freshly zeroed shared memory
 *
 * Return: 0, or an errno value
 */
int web_guess_init(struct web_guess_table *t)
{
	pthread_mutexattr_t a;
	int err;

	memset(t, 0, sizeof(*t));
	err = pthread_mutexattr_init(&a);
	if (err)
		return err;
	err = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!err)
		err = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!err)
		err = pthread_mutex_init(&t->lock, &a);
	pthread_mutexattr_destroy(&a);
	return err;
}

/**
 * web_guess_delay_ms() - the wait before the next check after @failures
 * failures in a row: none, then WEB_GUESS_FIRST_MS doubling up to
 * WEB_GUESS_MAX_MS
 */
uint32_t web_guess_delay_ms(uint32_t failures)
{
	uint32_t ms = WEB_GUESS_FIRST_MS;

	if (failures == 0)
		return 0;
	for (uint32_t i = 1; i < failures && ms < WEB_GUESS_MAX_MS; i++)
		ms *= 2;
	return ms < WEB_GUESS_MAX_MS ? ms : WEB_GUESS_MAX_MS;
}

/*
 * repair() - after a holder died mid-update: no field may be left so that
 * it lifts the limit or wedges a uid. A next time too far ahead is pulled
 * back to one longest wait; a count past any reachable one is kept high.
 */
static void repair(struct web_guess_table *t, uint64_t now)
{
	for (unsigned int i = 0; i < WEB_GUESS_UIDS; i++) {
		struct web_guess_entry *e = &t->e[i];

		if (e->next_ms > now + 2ull * WEB_GUESS_MAX_MS)
			e->next_ms = now + WEB_GUESS_MAX_MS;
		if (e->failures > 64)
			e->failures = 64;
		if (e->last_ms > now)
			e->last_ms = now;
	}
}

/* lock() - take the table's lock; false if it can never be had again */
static bool lock(struct web_guess_table *t, uint64_t now)
{
	int err = pthread_mutex_lock(&t->lock);

	if (err == EOWNERDEAD) {
		repair(t, now);
		err = pthread_mutex_consistent(&t->lock);
	}
	return err == 0;
}

/* forgotten() - has @e been quiet long enough to start afresh? */
static bool forgotten(const struct web_guess_entry *e, uint64_t now)
{
	return e->failures == 0 ||
	       (now > e->last_ms && now - e->last_ms > WEB_GUESS_FORGET_MS &&
		now >= e->next_ms);
}

/* entry() - @uid's entry: its own, a free or forgotten one, or else the
 * one every uid without room shares (stricter, never looser) */
static struct web_guess_entry *entry(struct web_guess_table *t, uid_t uid,
				     uint64_t now)
{
	struct web_guess_entry *free_e = NULL;

	for (unsigned int i = 0; i < SHARED_ENTRY; i++) {
		struct web_guess_entry *e = &t->e[i];

		if (e->used && e->uid == (uint32_t)uid)
			return e;
		if (!free_e && (!e->used || forgotten(e, now)))
			free_e = e;
	}
	if (!free_e)
		return &t->e[SHARED_ENTRY];
	memset(free_e, 0, sizeof(*free_e));
	free_e->uid = (uint32_t)uid;
	free_e->used = 1;
	return free_e;
}

/**
 * web_guess_book() - a proof from @uid has arrived: when may it be checked?
 * @t:		the daemon's table
 * @uid:	the peer's uid
 * @now_ms:	ev_now_ms()
 * @at_ms:	set to the time of the check (WEB_GUESS_CHECK)
 *
 * Return: WEB_GUESS_CHECK (booked, counted as a failure until
 * web_guess_right()), or WEB_GUESS_REFUSE (not booked)
 */
enum web_guess_turn web_guess_book(struct web_guess_table *t, uid_t uid,
				   uint64_t now_ms, uint64_t *at_ms)
{
	struct web_guess_entry *e;
	uint64_t at;

	if (!lock(t, now_ms))
		return WEB_GUESS_REFUSE;
	e = entry(t, uid, now_ms);
	if (forgotten(e, now_ms))
		e->failures = 0;
	at = e->next_ms > now_ms ? e->next_ms : now_ms;
	if (at - now_ms > WEB_GUESS_MAX_MS) {
		pthread_mutex_unlock(&t->lock);
		return WEB_GUESS_REFUSE;
	}
	if (e->failures < 64)
		e->failures++;
	e->next_ms = at + web_guess_delay_ms(e->failures);
	e->last_ms = now_ms;
	t->checks++;
	pthread_mutex_unlock(&t->lock);
	*at_ms = at;
	return WEB_GUESS_CHECK;
}

/**
 * web_guess_right() - a proof of @uid was right: its count starts afresh
 * and its next proof is checked at once
 */
void web_guess_right(struct web_guess_table *t, uid_t uid, uint64_t now_ms)
{
	struct web_guess_entry *e;

	if (!lock(t, now_ms))
		return;
	e = entry(t, uid, now_ms);
	e->failures = 0;
	e->next_ms = now_ms;
	pthread_mutex_unlock(&t->lock);
}
