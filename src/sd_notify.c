/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sd_notify.c - systemd's notify protocol, without libsystemd.
 *
 * The one hard decision: a notification is never worth a stalled or dead
 * daemon. The socket is non-blocking and every datagram is sent with
 * MSG_DONTWAIT; one that systemd's socket does not take now (full, gone,
 * a manager restarting) is counted and dropped. Each datagram is sent to
 * the address again (sendto, not connect) so that a manager that
 * re-creates its socket is reached at the new one.
 *
 * The environment is read once and then removed, as sd_notify(3) does
 * with unset_environment: workers (forked, never exec'd) and anything they
 * might start must not believe they are the service.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sd_notify.h"

/**
 * sd_notify_parse_socket() - the address $NOTIFY_SOCKET names
 * @name:	"/path" or "@abstract-name"
 * @addr:	filled on success
 * @len:	the address length to pass to sendto()
 *
 * Return: 0, or -1 if @name is not a unix socket address we can use
 * (empty, relative, too long, or another family such as "vsock:")
 */
int sd_notify_parse_socket(const char *name, struct sockaddr_un *addr,
			   socklen_t *len)
{
	size_t n = strlen(name);

	if (n < 2 || (name[0] != '/' && name[0] != '@') ||
	    n >= sizeof(addr->sun_path))
		return -1;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, name, n);
	/* An abstract name starts with a NUL and is not NUL-terminated. */
	if (name[0] == '@') {
		addr->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
				   1);
	}
	return 0;
}

/* A decimal number, nothing else; 0 when it is not one. */
static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	if (!s || s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno)
		return 0;
	return v;
}

/**
 * sd_notify_parse_watchdog() - the watchdog interval meant for us
 * @usec:	$WATCHDOG_USEC, or NULL
 * @pid:	$WATCHDOG_PID, or NULL (then the interval is ours)
 * @self:	our pid
 *
 * Return: the interval in microseconds, or 0 when there is none for us
 */
uint64_t sd_notify_parse_watchdog(const char *usec, const char *pid, pid_t self)
{
	uint64_t v = parse_u64(usec);

	if (pid && parse_u64(pid) != (uint64_t)self)
		return 0;
	return v;
}

/**
 * sd_notify_open() - read $NOTIFY_SOCKET and the watchdog's variables
 * @n:		set up; inactive when there is no usable notify socket
 *
 * Called once by the supervisor before it forks; the variables are
 * removed from the environment either way.
 */
void sd_notify_open(struct sd_notify *n)
{
	const char *name = getenv("NOTIFY_SOCKET");

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (!name)
		goto out;
	if (sd_notify_parse_socket(name, &n->addr, &n->addr_len) < 0) {
		log_warn("NOTIFY_SOCKET=%s is not a unix socket path or @name; not notifying the service manager",
			 name);
		goto out;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		log_warn("notify socket: %s; not notifying the service manager",
			 strerror(errno));
		goto out;
	}
	n->watchdog_usec =
		sd_notify_parse_watchdog(getenv("WATCHDOG_USEC"),
					 getenv("WATCHDOG_PID"), getpid());
out:
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

/**
 * sd_notify_close() - stop notifying; a forked worker calls this first
 */
void sd_notify_close(struct sd_notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->watchdog_usec = 0;
}

bool sd_notify_active(const struct sd_notify *n)
{
	return n->fd >= 0;
}

uint64_t sd_notify_watchdog_usec(const struct sd_notify *n)
{
	return n->watchdog_usec;
}

/* One datagram, never waiting; a failure is counted, never fatal. */
static void send_msg(struct sd_notify *n, const char *msg)
{
	ssize_t r;

	if (n->fd < 0)
		return;
	do {
		r = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&n->addr, n->addr_len);
	} while (r < 0 && errno == EINTR);
	if (r >= 0)
		return;
	n->failed++;
	log_debug("notify socket did not take a message (%s; %lu so far)",
		  strerror(errno), n->failed);
}

/* STATUS= is one line: what is not printable ASCII becomes a blank. */
static void set_status(struct sd_notify *n, const char *line)
{
	size_t i;

	for (i = 0; i < sizeof(n->status) - 1 && line[i]; i++) {
		n->status[i] = line[i];
		if (line[i] < ' ' || line[i] > '~')
			n->status[i] = ' ';
	}
	n->status[i] = '\0';
}

/**
 * sd_notify_ready() - READY=1: every socket listens, every worker started
 * @n:		the notifier
 * @status:	the STATUS= line sent with it, or NULL
 *
 * Also what ends a reload (sd_notify_reloading()).
 */
void sd_notify_ready(struct sd_notify *n, const char *status)
{
	char msg[SD_NOTIFY_STATUS_MAX + 32];

	if (n->fd < 0)
		return;
	if (!status) {
		send_msg(n, "READY=1");
		return;
	}
	set_status(n, status);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", n->status);
	send_msg(n, msg);
}

/**
 * sd_notify_status() - STATUS=: the one-line summary `systemctl status` shows
 * @n:		the notifier
 * @line:	the summary; sent only when it differs from the last one
 */
void sd_notify_status(struct sd_notify *n, const char *line)
{
	char msg[SD_NOTIFY_STATUS_MAX + 16];
	char old[SD_NOTIFY_STATUS_MAX];

	if (n->fd < 0)
		return;
	memcpy(old, n->status, sizeof(old));
	set_status(n, line);
	if (strcmp(old, n->status) == 0)
		return;
	snprintf(msg, sizeof(msg), "STATUS=%s", n->status);
	send_msg(n, msg);
}

/**
 * sd_notify_reloading() - RELOADING=1: a reopen or an upgrade begins
 * @n:		the notifier
 *
 * systemd 253 and later want the monotonic time with it, to tell this
 * reload from an older one; sd_notify_ready() ends it.
 */
void sd_notify_reloading(struct sd_notify *n)
{
	struct timespec ts;
	char msg[64];

	if (n->fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL);
	send_msg(n, msg);
}

/** sd_notify_stopping() - STOPPING=1: the daemon is shutting down */
void sd_notify_stopping(struct sd_notify *n)
{
	send_msg(n, "STOPPING=1");
}

/** sd_notify_watchdog() - WATCHDOG=1: the supervisor's loop still runs */
void sd_notify_watchdog(struct sd_notify *n)
{
	send_msg(n, "WATCHDOG=1");
}
