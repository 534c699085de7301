/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * peer_policy.c - who may come in: the daemon's own uid, root, and what
 * --allow-user and --allow-group add.
 *
 * Names are looked up once, at start, and so are the groups' members: the
 * user database may be a directory server, and a door on the event loop
 * must never wait for one. The cost: a user added to a group while the
 * daemon runs is admitted after a restart.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"

/* uid_t and gid_t are both 32-bit ids: one list helper serves both. */
static bool id_listed(const unsigned int *list, unsigned int n, unsigned int id)
{
	for (unsigned int i = 0; i < n; i++)
		if (list[i] == id)
			return true;
	return false;
}

/* Add @id to @list (of @cap) unless it is there; -1 when it is full. */
static int id_add(unsigned int *list, unsigned int *n, unsigned int cap,
		  unsigned int id)
{
	if (id_listed(list, *n, id))
		return 0;
	if (*n == cap)
		return -1;
	list[(*n)++] = id;
	return 0;
}

bool peer_allowed(const struct peer_policy *policy, uid_t uid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	if (!policy)
		return false;
	return id_listed(policy->users, policy->nusers, uid) ||
	       id_listed(policy->members, policy->nmembers, uid);
}

static int add_member(struct peer_policy *p, uid_t uid, char *err,
		      size_t errlen)
{
	if (id_add(p->members, &p->nmembers, PEER_MAX_MEMBERS, uid) < 0) {
		snprintf(err, errlen,
			 "--allow-group: more than %u members in all",
			 PEER_MAX_MEMBERS);
		return -1;
	}
	return 0;
}

/* add_listed_members() - the users the group database names for @gid */
static int add_listed_members(struct peer_policy *p, gid_t gid, char *err,
			      size_t errlen)
{
	struct group *gr = getgrgid(gid);

	if (!gr)
		return 0; /* a bare gid: only users whose primary group it is */
	for (char **m = gr->gr_mem; m && *m; m++) {
		struct passwd *pw = getpwnam(*m);

		if (pw && add_member(p, pw->pw_uid, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int peer_policy_resolve(struct peer_policy *p, char *err, size_t errlen)
{
	struct passwd *pw;
	int r = 0;

	p->nmembers = 0;
	if (!p->ngroups)
		return 0;
	for (unsigned int i = 0; i < p->ngroups; i++)
		if (add_listed_members(p, p->groups[i], err, errlen) < 0)
			return -1;
	setpwent();
	while (r == 0 && (pw = getpwent()))
		if (id_listed(p->groups, p->ngroups, pw->pw_gid))
			r = add_member(p, pw->pw_uid, err, errlen);
	endpwent();
	return r;
}

static bool user_by_name(const char *name, unsigned int *id)
{
	struct passwd *pw = getpwnam(name);

	if (pw)
		*id = pw->pw_uid;
	return pw != NULL;
}

static bool group_by_name(const char *name, unsigned int *id)
{
	struct group *gr = getgrnam(name);

	if (gr)
		*id = gr->gr_gid;
	return gr != NULL;
}

/*
 * parse_id() - @arg as a number when it is all digits, else a name that
 * @by_name must find; @kind ("user", "group") names it in @err
 */
static int parse_id(const char *arg, const char *kind,
		    bool (*by_name)(const char *, unsigned int *),
		    unsigned int *id, char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	if (arg[0] < '0' || arg[0] > '9' ||
	    strspn(arg, "0123456789") != strlen(arg)) {
		if (arg[0] && by_name(arg, id))
			return 0;
		snprintf(err, errlen, "no %s named '%s'", kind, arg);
		return -1;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	/* (uid_t)-1 means "no change" to chown and "nobody" to the kernel. */
	if (errno == ERANGE || v >= 0xffffffffull) {
		snprintf(err, errlen, "%s id %s is out of range", kind, arg);
		return -1;
	}
	*id = (unsigned int)v;
	return 0;
}

/**
 * peer_parse_user() - a user name or a uid, at start
 * @arg:	all digits is a uid (it need not have a passwd entry), else a
 *		name that must exist
 * @uid:	set on success
 * @err:	a human reason on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err filled
 */
int peer_parse_user(const char *arg, uid_t *uid, char *err, size_t errlen)
{
	return parse_id(arg, "user", user_by_name, uid, err, errlen);
}

/** peer_parse_group() - a group name or a gid, as peer_parse_user() */
int peer_parse_group(const char *arg, gid_t *gid, char *err, size_t errlen)
{
	return parse_id(arg, "group", group_by_name, gid, err, errlen);
}

/** peer_policy_add_user() - --allow-user=USER (see peer_parse_user()) */
int peer_policy_add_user(struct peer_policy *p, const char *arg, char *err,
			 size_t errlen)
{
	uid_t uid;

	if (peer_parse_user(arg, &uid, err, errlen) < 0)
		return -1;
	if (id_add(p->users, &p->nusers, PEER_MAX_ALLOWED, uid) < 0) {
		snprintf(err, errlen, "at most %u users", PEER_MAX_ALLOWED);
		return -1;
	}
	return 0;
}

/** peer_policy_add_group() - --allow-group=GROUP (see peer_parse_group()) */
int peer_policy_add_group(struct peer_policy *p, const char *arg, char *err,
			  size_t errlen)
{
	gid_t gid;

	if (peer_parse_group(arg, &gid, err, errlen) < 0)
		return -1;
	if (id_add(p->groups, &p->ngroups, PEER_MAX_ALLOWED, gid) < 0) {
		snprintf(err, errlen, "at most %u groups", PEER_MAX_ALLOWED);
		return -1;
	}
	return 0;
}
