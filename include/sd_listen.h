/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * sd_listen.h - listening sockets passed by systemd (socket activation).
 *
 * With $LISTEN_PID (our pid), $LISTEN_FDS and $LISTEN_FDNAMES set, the
 * supervisor takes its sockets from fds 3 .. 3+LISTEN_FDS-1 instead of
 * binding them. Each fd's name (FileDescriptorName= in the socket unit)
 * says what it is:
 *
 *   vhost-user.I    guest I's vhost-user socket (every guest needs one)
 *   console.I       guest I's console listener (uds or network backend)
 *   web.I           guest I's --web-port listener
 *   port.NAME.I     guest I's socket of --port=NAME:PATH
 *
 * Without the ".I" suffix (one socket unit with a ListenStream= line per
 * guest, all of the same name) the fds of a name go to guests 0, 1, ...
 * in the order systemd passes them, which is the order of the lines. With
 * no $LISTEN_FDNAMES at all every fd is "vhost-user". The console, web and
 * port sockets a unit does not pass are bound by the daemon as usual.
 *
 * Anything that does not fit (a count, a name, the socket's type, an
 * address off the loopback for TCP) is one error line and exit status 1:
 * a unit that is wrong must not half start.
 */
#ifndef VDC_SD_LISTEN_H
#define VDC_SD_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

#define SD_LISTEN_FDS_START 3 /* sd_listen_fds(3) */
#define SD_LISTEN_FDS_MAX   4096u

enum sd_listen_role {
	SD_LISTEN_VHOST_USER,
	SD_LISTEN_CONSOLE,
	SD_LISTEN_WEB,
	SD_LISTEN_PORT,
};

/* One passed fd and what its name says it is. */
struct sd_listen_fd {
	int fd;
	enum sd_listen_role role;
	unsigned int port; /* SD_LISTEN_PORT: index into options.ports */
	long index; /* the guest; -1 while a plain name waits for its turn */
	bool plain; /* named without an index */
	bool taken; /* the supervisor owns it now */
};

struct sd_listen {
	struct sd_listen_fd *fds;
	unsigned int count; /* 0: not socket-activated */
};

bool sd_listen_passed(void);
int sd_listen_parse_name(const char *name, const struct options *o,
			 struct sd_listen_fd *out);
int sd_listen_open(struct sd_listen *l, const struct options *o, char *err,
		   size_t errlen);
int sd_listen_take(struct sd_listen *l, enum sd_listen_role role,
		   unsigned int port, unsigned int index);
void sd_listen_close(struct sd_listen *l);

#endif
