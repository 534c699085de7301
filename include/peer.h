/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * peer.h - who is on the other end of a connection, and may they come in.
 *
 * Every door of the daemon (TCP and unix consoles, named ports, the web
 * console, the control socket) asks the same two questions of a client
 * it just accepted: which uid owns the connecting socket, and is that uid
 * allowed. A unix socket answers with SO_PEERCRED; a loopback TCP
 * connection has no such option, so the kernel's socket diagnostics
 * (NETLINK_SOCK_DIAG, inet_diag) are asked for the socket with the
 * connection's two addresses, as `ss -e` does. Whatever cannot be
 * answered is refused: the lookup fails closed.
 */
#ifndef VDC_PEER_H
#define VDC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PEER_MAX_ALLOWED 32u /* --allow-user and --allow-group, each */
#define PEER_MAX_MEMBERS 1024u /* users of all --allow-group groups */

/*
 * Who may connect besides the daemon's own uid and root. The groups'
 * members are read once, at start (peer_policy_resolve()): a lookup in the
 * user database can block on a directory server, which no door may wait
 * for. A user added to a group later is admitted after a restart.
 */
struct peer_policy {
	uid_t users[PEER_MAX_ALLOWED];
	unsigned int nusers;
	gid_t groups[PEER_MAX_ALLOWED];
	unsigned int ngroups;
	uid_t members[PEER_MAX_MEMBERS]; /* of @groups, from the resolve */
	unsigned int nmembers;
};

/**
 * peer_uid() - the uid that owns the other end of connected socket @fd
 * @fd:		an accepted AF_UNIX or loopback AF_INET/AF_INET6 stream socket
 * @uid:	set on success
 * @err:	a human reason on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err filled (the caller refuses the client)
 */
int peer_uid(int fd, uid_t *uid, char *err, size_t errlen);

/**
 * peer_allowed() - whether @uid may use the daemon's doors
 * @policy:	--allow-user / --allow-group, validated at start
 * @uid:	from peer_uid()
 *
 * The daemon's own uid and root always may; so may @policy's users and
 * the members of its groups as peer_policy_resolve() found them. No
 * lookup happens here: safe on the event loop.
 */
bool peer_allowed(const struct peer_policy *policy, uid_t uid);

int peer_parse_user(const char *arg, uid_t *uid, char *err, size_t errlen);
int peer_parse_group(const char *arg, gid_t *gid, char *err, size_t errlen);
int peer_policy_add_user(struct peer_policy *policy, const char *arg, char *err,
			 size_t errlen);
int peer_policy_add_group(struct peer_policy *policy, const char *arg,
			  char *err, size_t errlen);

/**
 * peer_policy_resolve() - read the members of @policy's groups, at start
 * @policy:	users and groups filled in; members are set here
 * @err:	a human reason on failure
 * @errlen:	size of @err
 *
 * A uid belongs to an allowed group when the group database lists its
 * user name as a member, or when that is its primary group in the passwd
 * database (as far as that can be enumerated).
 *
 * Return: 0, or -1 with @err filled (more than PEER_MAX_MEMBERS members)
 */
int peer_policy_resolve(struct peer_policy *policy, char *err, size_t errlen);

/**
 * peer_diag_available() - whether the kernel answers inet_diag requests
 *
 * Asked once at start (a real lookup of a loopback connection to
 * ourselves); later calls return the same answer. Without it every TCP
 * client is refused.
 */
bool peer_diag_available(void);

/**
 * peer_diag_error() - why peer_diag_available() said no ("" if it did not)
 */
const char *peer_diag_error(void);

#endif
