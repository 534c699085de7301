/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * door.c - the check at a console door (the TCP and unix consoles, every
 * named port): the uid behind an accepted client, against the policy,
 * before the client takes a slot or sees a byte of the console.
 *
 * The one hard decision: a client whose uid cannot be found is refused.
 * An unchecked client would be exactly the stranger the check keeps out,
 * so a kernel without socket diagnostics refuses every TCP client (and
 * says so once at start) rather than admit one on trust.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "door.h"
#include "event_loop.h"
#include "log.h"

#define DOOR_LOG_INTERVAL_MS 1000 /* one refusal line a second per door */

/* " (tcp 127.0.0.1:12345)", " (unix PATH)": where the door is. */
static void describe_listener(int fd, char *out, size_t len, bool *tcp)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";

	memset(&ss, 0, sizeof(ss));
	*tcp = false;
	out[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(out, len, " (tcp %s:%u)", addr, ntohs(in->sin_port));
		*tcp = true;
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(out, len, " (tcp [%s]:%u)", addr,
			 ntohs(in6->sin6_port));
		*tcp = true;
	} else if (ss.ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)&ss;

		snprintf(out, len, " (unix %.*s)",
			 (int)(sl > sizeof(sa_family_t)
				       ? sl - sizeof(sa_family_t)
				       : 0),
			 un->sun_path);
	}
}

/**
 * door_init() - a door on listener @listen_fd, named for the log
 * @d:		the door
 * @policy:	who may come in (from the options)
 * @listen_fd:	the listener; its address completes the name
 * @what:	"console 0", "port NAME of guest 0"
 * @place:	what a refused client hears it is not allowed on ("this
 *		console", "this port"); a string that outlives @d
 */
void door_init(struct door *d, const struct peer_policy *policy, int listen_fd,
	       const char *what, const char *place)
{
	char where[DOOR_NAME_LEN];

	memset(d, 0, sizeof(*d));
	d->policy = policy;
	d->place = place;
	describe_listener(listen_fd, where, sizeof(where), &d->tcp);
	snprintf(d->name, sizeof(d->name), "%s%s", what, where);
}

/*
 * log_refusal() - say why a client was refused, at most once a second
 *
 * A stranger who connects in a loop must not fill the log, nor push the
 * lines that matter out of it; the count of those not logged comes with
 * the next line.
 */
static void log_refusal(struct door *d, const char *why)
{
	uint64_t now = ev_now_ms();

	if (d->logged_ms && now - d->logged_ms < DOOR_LOG_INTERVAL_MS) {
		d->unlogged++;
		return;
	}
	if (d->unlogged)
		log_warn("client refused on %s: %s (and %lu more refused since the last such line)",
			 d->name, why, d->unlogged);
	else
		log_warn("client refused on %s: %s", d->name, why);
	d->logged_ms = now;
	d->unlogged = 0;
}

/**
 * door_admit() - may the client just accepted on @fd come in?
 * @d:		the door it came through
 * @fd:		the accepted socket; nothing has been read from or written
 *		to it
 * @line:	on refusal, the one line to send it (it has not been sent)
 * @linelen:	size of @line
 *
 * Return: true to let it in; false to refuse it (logged, rate-limited)
 */
bool door_admit(struct door *d, int fd, char *line, size_t linelen)
{
	uid_t uid;

	return door_admit_uid(d, fd, &uid, line, linelen);
}

/**
 * door_admit_uid() - door_admit(), telling who came in: for a door that
 * treats each uid on its own (the web console's guess limit and shares)
 * @uid:	set to the client's uid when it is let in
 */
bool door_admit_uid(struct door *d, int fd, uid_t *uid, char *line,
		    size_t linelen)
{
	char err[256], why[320];

	if (d->tcp && !peer_diag_available()) {
		snprintf(line, linelen,
			 PROGRAM_NAME
			 ": this %s cannot tell who connected, so it lets nobody in over TCP\r\n",
			 d->place);
		log_refusal(
			d,
			"the kernel has no socket diagnostics to tell who connected");
		return false;
	}
	if (peer_uid(fd, uid, err, sizeof(err)) < 0) {
		snprintf(line, linelen,
			 PROGRAM_NAME
			 ": who connected could not be checked; not allowed on this %s\r\n",
			 d->place);
		snprintf(why, sizeof(why), "cannot tell who connected: %s",
			 err);
		log_refusal(d, why);
		return false;
	}
	if (peer_allowed(d->policy, *uid))
		return true;
	snprintf(line, linelen,
		 PROGRAM_NAME ": uid %u is not allowed on this %s\r\n",
		 (unsigned int)*uid, d->place);
	snprintf(why, sizeof(why),
		 "uid %u is not allowed (--allow-user, --allow-group)",
		 (unsigned int)*uid);
	log_refusal(d, why);
	return false;
}

/**
 * door_check_kernel() - at start, before any worker: can TCP clients be
 * checked at all? Said once; every worker inherits the answer.
 * @o:	the options: only a daemon with a TCP door asks
 */
void door_check_kernel(const struct options *o)
{
	if (o->backend != BACKEND_NETWORK && !o->web_port && !o->metrics_port)
		return;
	if (!peer_diag_available())
		log_error("the kernel does not tell who owns a TCP connection (NETLINK_SOCK_DIAG, inet_diag: %s): every TCP client will be refused",
			  peer_diag_error());
}
