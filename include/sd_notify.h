/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sd_notify.h - tell the service manager how the daemon is doing.
 *
 * systemd's notify protocol (sd_notify(3)), written here so that the
 * daemon links libc only: datagrams of "KEY=VALUE\n" lines sent to the
 * unix socket named by $NOTIFY_SOCKET (a path, or "@name" for an abstract
 * socket). Only the supervisor talks to systemd: it is the main process
 * (MAINPID) and the one that knows whether every worker runs. Sending
 * never waits and never fails the daemon: a notify socket that is gone or
 * full costs a dropped datagram and one debug line.
 *
 * Without $NOTIFY_SOCKET every call below does nothing.
 */
#ifndef VDC_SD_NOTIFY_H
#define VDC_SD_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define SD_NOTIFY_STATUS_MAX 256 /* one line of STATUS= text */

struct sd_notify {
	int fd; /* -1: no notify socket */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec; /* 0: no watchdog asked for */
	char status[SD_NOTIFY_STATUS_MAX]; /* last STATUS= sent */
	unsigned long failed; /* datagrams the socket did not take */
};

/* The protocol's parts that do no I/O, for the tests. */
int sd_notify_parse_socket(const char *name, struct sockaddr_un *addr,
			   socklen_t *len);
uint64_t sd_notify_parse_watchdog(const char *usec, const char *pid,
				  pid_t self);

void sd_notify_open(struct sd_notify *n);
void sd_notify_close(struct sd_notify *n);
bool sd_notify_active(const struct sd_notify *n);

void sd_notify_ready(struct sd_notify *n, const char *status);
void sd_notify_status(struct sd_notify *n, const char *line);
void sd_notify_reloading(struct sd_notify *n);
void sd_notify_stopping(struct sd_notify *n);
void sd_notify_watchdog(struct sd_notify *n);
uint64_t sd_notify_watchdog_usec(const struct sd_notify *n);

#endif
