/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_room.c - which unauthenticated web connection makes room for a
 * newcomer (web_room.h has the rules).
 *
 * The one hard decision: the newcomer never loses. Refusing it instead
 * would let whoever holds the places keep everyone out; displacing the
 * oldest of the biggest holder means a flood only ever displaces itself,
 * and an owner's fresh connection always finds a place.
 */
#include "web_room.h"

/* waiting() - an unauthenticated place in use */
static bool waiting(const struct web_place *p)
{
	return p->used && !p->authed;
}

/* count() - unauthenticated places: all, and @uid's */
static unsigned int count(const struct web_place *p, unsigned int n, uid_t uid,
			  unsigned int *of_uid)
{
	unsigned int all = 0;

	*of_uid = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!waiting(&p[i]))
			continue;
		all++;
		if (p[i].uid == uid)
			(*of_uid)++;
	}
	return all;
}

/* oldest() - the index of @uid's oldest unauthenticated place, or -1 */
static int oldest(const struct web_place *p, unsigned int n, uid_t uid)
{
	int old = -1;

	for (unsigned int i = 0; i < n; i++)
		if (waiting(&p[i]) && p[i].uid == uid &&
		    (old < 0 || p[i].since_ms < p[old].since_ms))
			old = (int)i;
	return old;
}

/* biggest_holder() - the uid with the most unauthenticated places */
static uid_t biggest_holder(const struct web_place *p, unsigned int n)
{
	unsigned int best = 0, held;
	uid_t who = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (!waiting(&p[i]))
			continue;
		count(p, n, p[i].uid, &held);
		if (held > best) {
			best = held;
			who = p[i].uid;
		}
	}
	return who;
}

/**
 * web_room_victim() - the place a newcomer of @uid displaces, if any
 * @p:		the places
 * @n:		how many
 * @uid:	the newcomer's uid
 * @max:	unauthenticated places in all (WEB_PREAUTH_MAX)
 * @per_uid:	of which one uid may hold (WEB_PREAUTH_PER_UID)
 *
 * Return: the index of the unauthenticated place to close, or -1 when
 * there is room (or nothing that may be closed)
 */
int web_room_victim(const struct web_place *p, unsigned int n, uid_t uid,
		    unsigned int max, unsigned int per_uid)
{
	unsigned int mine, all = count(p, n, uid, &mine);

	if (mine >= per_uid)
		return oldest(p, n, uid);
	if (all >= max)
		return oldest(p, n, biggest_holder(p, n));
	return -1;
}
