/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_ticket.c - mint and spend one-time web console tickets
 * (web_ticket.h says who does which and how a race ends).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "web_ticket.h"

#define STATE(w) ((w) & 3u)
#define NEXT(w, st) ((((w) >> 2) + 1) << 2 | (st))

/* Constant time: how much of a secret matched tells a guesser nothing. */
static bool same_secret(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (size_t i = 0; i < WEB_TICKET_LEN; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

/* A slot the minter may take: never used, spent, or expired unspent. */
static bool reusable(const struct web_ticket_slot *s, uint64_t w,
		     uint64_t now_ms)
{
	return STATE(w) == WEB_TICKET_FREE || STATE(w) == WEB_TICKET_SPENT ||
	       (STATE(w) == WEB_TICKET_READY && s->expires_ms <= now_ms);
}

/**
 * web_ticket_mint() - the supervisor: store a new ticket
 * @t:		the shared table
 * @guest:	the only guest it opens
 * @ttl_ms:	1 .. WEB_TICKET_MAX_MS
 * @watch_only:	never the writer
 * @now_ms:	CLOCK_MONOTONIC
 * @secret:	fresh from getrandom()
 *
 * Return: 0, -EINVAL for a TTL out of range, -EBUSY when every slot holds
 * a live ticket
 */
int web_ticket_mint(struct web_ticket_table *t, unsigned int guest,
		    uint32_t ttl_ms, bool watch_only, uint64_t now_ms,
		    const uint8_t secret[WEB_TICKET_LEN])
{
	if (ttl_ms == 0 || ttl_ms > WEB_TICKET_MAX_MS)
		return -EINVAL;
	for (unsigned int i = 0; i < WEB_TICKET_SLOTS; i++) {
		struct web_ticket_slot *s = &t->s[i];
		uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);

		if (!reusable(s, w, now_ms) ||
		    !__atomic_compare_exchange_n(&s->word, &w,
						 NEXT(w, WEB_TICKET_WRITING),
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		memcpy(s->secret, secret, WEB_TICKET_LEN);
		s->guest = guest;
		s->watch_only = watch_only;
		s->expires_ms = now_ms + ttl_ms;
		w = NEXT(w, WEB_TICKET_WRITING);
		__atomic_store_n(&s->word, (w & ~(uint64_t)3) | WEB_TICKET_READY,
				 __ATOMIC_RELEASE);
		return 0;
	}
	return -EBUSY;
}

/**
 * web_ticket_spend() - a worker: spend the ticket a page presented
 * @t:		the shared table
 * @guest:	the worker's guest
 * @secret:	what the page sent
 * @now_ms:	CLOCK_MONOTONIC
 *
 * Return: what the ticket grants; WEB_TICKET_REFUSED when it is not a live
 * ticket of @guest (and then nothing is spent)
 */
enum web_ticket_grant web_ticket_spend(struct web_ticket_table *t,
				       unsigned int guest,
				       const uint8_t secret[WEB_TICKET_LEN],
				       uint64_t now_ms)
{
	for (unsigned int i = 0; i < WEB_TICKET_SLOTS; i++) {
		struct web_ticket_slot *s = &t->s[i];
		uint64_t w = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
		bool watch;

		if (STATE(w) != WEB_TICKET_READY ||
		    !same_secret(s->secret, secret))
			continue;
		watch = s->watch_only != 0;
		if (s->guest != guest || s->expires_ms <= now_ms)
			return WEB_TICKET_REFUSED;
		/* The fields read belong to word w only if w is still the
		 * word: the exchange settles that and the race at once. */
		if (!__atomic_compare_exchange_n(&s->word, &w,
						 (w & ~(uint64_t)3) | WEB_TICKET_SPENT,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			return WEB_TICKET_REFUSED;
		explicit_bzero(s->secret, WEB_TICKET_LEN);
		return watch ? WEB_TICKET_WATCH : WEB_TICKET_FULL;
	}
	return WEB_TICKET_REFUSED;
}

/**
 * web_ticket_parse_ttl() - "30", "30s", "2m": a ticket's lifetime
 * @s:		the text
 * @ttl_ms:	the lifetime
 *
 * Return: 0, or -1 when it is not 1 s .. 10 min in that form
 */
int web_ticket_parse_ttl(const char *s, uint32_t *ttl_ms)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || v > WEB_TICKET_MAX_MS / 1000)
		return -1;
	if (*end == 'm' && end[1] == '\0')
		v *= 60;
	else if (!(*end == '\0' || (*end == 's' && end[1] == '\0')))
		return -1;
	if (v == 0 || v * 1000 > WEB_TICKET_MAX_MS)
		return -1;
	*ttl_ms = (uint32_t)(v * 1000);
	return 0;
}
