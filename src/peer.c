/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * peer.c - which uid is on the other end of an accepted connection.
 *
 * A unix socket answers with SO_PEERCRED. A loopback TCP connection is
 * looked up in the kernel's socket diagnostics: one exact request over
 * NETLINK_SOCK_DIAG for the *client's* socket (its local address is our
 * peer's, its remote ours), whose reply carries the uid that created it.
 * The kernel answers the request inside sendto(), so the receive never
 * waits; SO_RCVTIMEO bounds it all the same.
 *
 * The one hard decision: what the diagnostics say about a socket nobody
 * holds any more. A client that connected, sent keystrokes and closed
 * leaves an orphan (or a time-wait entry) that the kernel reports as owned
 * by uid 0. Only a socket that still has an inode and is not listening,
 * time-waiting or half-open counts: everything else is refused, so an
 * early close can never pass for root.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "peer.h"

#define DIAG_TIMEOUT_US 200000 /* the kernel answers at once; a bound only */

struct diag_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

static int unix_peer_uid(int fd, uid_t *uid, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		snprintf(err, errlen, "SO_PEERCRED: %s", strerror(errno));
		return -1;
	}
	if (len != sizeof(cred) || cred.pid == 0) {
		/* A socket that never connected reports pid 0, uid -1. */
		snprintf(err, errlen, "SO_PEERCRED: no peer credentials");
		return -1;
	}
	*uid = cred.uid;
	return 0;
}

/*
 * fill_diag_id() - the client socket's identity from our accepted one
 *
 * The client's local address is our peer address, its remote is ours.
 */
static int fill_diag_id(const struct sockaddr_storage *local,
			const struct sockaddr_storage *remote,
			struct inet_diag_sockid *id, char *err, size_t errlen)
{
	if (local->ss_family == AF_INET) {
		const struct sockaddr_in *l = (const void *)local;
		const struct sockaddr_in *r = (const void *)remote;

		id->idiag_sport = r->sin_port;
		id->idiag_dport = l->sin_port;
		memcpy(id->idiag_src, &r->sin_addr, sizeof(r->sin_addr));
		memcpy(id->idiag_dst, &l->sin_addr, sizeof(l->sin_addr));
	} else if (local->ss_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const void *)local;
		const struct sockaddr_in6 *r = (const void *)remote;

		/* v4-mapped addresses are looked up as IPv4 by the kernel. */
		id->idiag_sport = r->sin6_port;
		id->idiag_dport = l->sin6_port;
		memcpy(id->idiag_src, &r->sin6_addr, sizeof(r->sin6_addr));
		memcpy(id->idiag_dst, &l->sin6_addr, sizeof(l->sin6_addr));
	} else {
		snprintf(err, errlen, "address family %d has no peer lookup",
			 local->ss_family);
		return -1;
	}
	id->idiag_if = 0;
	id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return 0;
}

static int diag_send(int nl, int family, const struct inet_diag_sockid *id,
		     uint32_t seq, char *err, size_t errlen)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct diag_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.nlh.nlmsg_len = sizeof(rq);
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST; /* exact lookup: no NLM_F_DUMP */
	rq.nlh.nlmsg_seq = seq;
	rq.req.sdiag_family = (uint8_t)family;
	rq.req.sdiag_protocol = IPPROTO_TCP;
	rq.req.idiag_states = ~0u;
	rq.req.id = *id;
	if (sendto(nl, &rq, sizeof(rq), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)sizeof(rq)) {
		snprintf(err, errlen, "sock_diag request: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * diag_check_msg() - take the uid from a reply only if it is our socket
 *
 * The reply must name exactly the addresses asked for (a listener found
 * instead would not), and the socket must still be held by a process.
 */
static int diag_check_msg(const struct inet_diag_msg *m,
			  const struct inet_diag_sockid *id, uid_t *uid,
			  char *err, size_t errlen)
{
	if (m->id.idiag_sport != id->idiag_sport ||
	    m->id.idiag_dport != id->idiag_dport ||
	    memcmp(m->id.idiag_src, id->idiag_src, sizeof(id->idiag_src)) !=
		    0 ||
	    memcmp(m->id.idiag_dst, id->idiag_dst, sizeof(id->idiag_dst)) !=
		    0) {
		/* A v4-mapped request is answered in IPv4 form. */
		if (!(m->idiag_family == AF_INET &&
		      m->id.idiag_sport == id->idiag_sport &&
		      m->id.idiag_dport == id->idiag_dport &&
		      m->id.idiag_src[0] == id->idiag_src[3] &&
		      m->id.idiag_dst[0] == id->idiag_dst[3])) {
			snprintf(err, errlen,
				 "sock_diag answered for another socket");
			return -1;
		}
	}
	if (m->idiag_state == TCP_LISTEN || m->idiag_state == TCP_TIME_WAIT ||
	    m->idiag_state == TCP_SYN_RECV || m->idiag_state == TCP_CLOSE) {
		snprintf(err, errlen,
			 "the client's socket is in TCP state %u, not connected",
			 (unsigned int)m->idiag_state);
		return -1;
	}
	if (m->idiag_inode == 0) {
		snprintf(err, errlen,
			 "the client closed its socket: no owner to ask");
		return -1;
	}
	*uid = m->idiag_uid;
	return 0;
}

static int diag_recv(int nl, uint32_t seq, const struct inet_diag_sockid *id,
		     uid_t *uid, char *err, size_t errlen)
{
	union {
		struct nlmsghdr nlh;
		char buf[8192];
	} r;
	struct sockaddr_nl from = {0}, self = {0};
	socklen_t fromlen = sizeof(from), selflen = sizeof(self);
	ssize_t n;

	if (getsockname(nl, (struct sockaddr *)&self, &selflen) < 0) {
		snprintf(err, errlen, "sock_diag: getsockname: %s",
			 strerror(errno));
		return -1;
	}
	n = recvfrom(nl, r.buf, sizeof(r.buf), MSG_TRUNC,
		     (struct sockaddr *)&from, &fromlen);
	if (n < 0) {
		snprintf(err, errlen, "sock_diag reply: %s",
			 errno == EAGAIN ? "no answer from the kernel"
					 : strerror(errno));
		return -1;
	}
	if ((size_t)n > sizeof(r.buf) || !NLMSG_OK(&r.nlh, (size_t)n)) {
		snprintf(err, errlen, "sock_diag reply: malformed (%zd bytes)",
			 n);
		return -1;
	}
	if (fromlen < sizeof(from) || from.nl_pid != 0 ||
	    r.nlh.nlmsg_seq != seq || r.nlh.nlmsg_pid != self.nl_pid) {
		snprintf(err, errlen,
			 "sock_diag reply: not the answer to our request");
		return -1;
	}
	if (r.nlh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&r.nlh);

		if (r.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			snprintf(err, errlen, "sock_diag: short error reply");
		else if (e->error == -ENOENT)
			snprintf(err, errlen,
				 "no local socket has this connection's addresses (closed, or not on this host)");
		else
			snprintf(err, errlen, "sock_diag: %s",
				 strerror(-e->error));
		return -1;
	}
	if (r.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    r.nlh.nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
		snprintf(err, errlen,
			 "sock_diag reply: unexpected message type %u",
			 (unsigned int)r.nlh.nlmsg_type);
		return -1;
	}
	return diag_check_msg(NLMSG_DATA(&r.nlh), id, uid, err, errlen);
}

static int tcp_peer_uid(int fd, const struct sockaddr_storage *local,
			uid_t *uid, char *err, size_t errlen)
{
	static uint32_t seq;
	struct sockaddr_storage remote;
	socklen_t len = sizeof(remote);
	struct timeval tv = {.tv_sec = 0, .tv_usec = DIAG_TIMEOUT_US};
	struct inet_diag_sockid id;
	int nl, r = -1;

	memset(&remote, 0, sizeof(remote));
	if (getpeername(fd, (struct sockaddr *)&remote, &len) < 0) {
		snprintf(err, errlen, "getpeername: %s", strerror(errno));
		return -1;
	}
	memset(&id, 0, sizeof(id));
	if (remote.ss_family != local->ss_family ||
	    fill_diag_id(local, &remote, &id, err, errlen) < 0)
		return -1;
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0) {
		snprintf(err, errlen, "NETLINK_SOCK_DIAG: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(err, errlen, "SO_RCVTIMEO: %s", strerror(errno));
		goto out;
	}
	seq++;
	if (diag_send(nl, local->ss_family, &id, seq, err, errlen) < 0)
		goto out;
	r = diag_recv(nl, seq, &id, uid, err, errlen);
out:
	close(nl);
	return r;
}

int peer_uid(int fd, uid_t *uid, char *err, size_t errlen)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int type = 0;
	socklen_t tlen = sizeof(type);

	memset(&local, 0, sizeof(local));
	if (getsockname(fd, (struct sockaddr *)&local, &len) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM) {
		snprintf(err, errlen, "not a stream socket");
		return -1;
	}
	if (local.ss_family == AF_UNIX)
		return unix_peer_uid(fd, uid, err, errlen);
	return tcp_peer_uid(fd, &local, uid, err, errlen);
}

static int probe_pair(int *lfd, int *cfd, int *afd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	*lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*lfd < 0 || *cfd < 0 ||
	    bind(*lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(*lfd, 1) < 0 ||
	    getsockname(*lfd, (struct sockaddr *)&sa, &len) < 0 ||
	    connect(*cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	*afd = accept4(*lfd, NULL, NULL, SOCK_CLOEXEC);
	return *afd < 0 ? -1 : 0;
}

/*
 * The probe is a real lookup: a loopback connection to ourselves must be
 * found and reported as ours. Anything less and no TCP client is checked.
 */
static char diag_error[256];

bool peer_diag_available(void)
{
	static int state = -1; /* -1: not asked yet */
	int lfd = -1, cfd = -1, afd = -1;
	uid_t uid = (uid_t)-1;

	if (state >= 0)
		return state;
	if (probe_pair(&lfd, &cfd, &afd) < 0)
		snprintf(diag_error, sizeof(diag_error),
			 "a loopback connection to probe it: %s",
			 strerror(errno));
	else if (peer_uid(afd, &uid, diag_error, sizeof(diag_error)) == 0 &&
		 uid != geteuid())
		snprintf(diag_error, sizeof(diag_error),
			 "it named uid %u as the owner of our own socket",
			 (unsigned int)uid);
	state = !diag_error[0];
	if (afd >= 0)
		close(afd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	return state;
}

const char *peer_diag_error(void)
{
	return diag_error;
}
