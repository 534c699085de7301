/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * status_server.h - the supervisor's answers about its guests: the
 * control socket (docs/control-socket.md), --metrics-port's Prometheus
 * endpoint, and the one-line summary for systemd's STATUS=.
 *
 * Everything runs in the supervisor's loop and reads the workers'
 * counters from shared memory: asking never wakes a worker. Clients are
 * other local processes and may be hostile: every socket is
 * non-blocking, every connection has a deadline and a bounded input,
 * connections are capped, and a peer uid the doors would refuse is
 * refused here too.
 */
#ifndef VDC_STATUS_SERVER_H
#define VDC_STATUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon_shm.h"
#include "door.h"
#include "event_loop.h"
#include "options.h"
#include "peer.h"
#include "sock.h"
#include "status_report.h"

#define STATUS_MAX_CONNS 16u
#define STATUS_SUMMARY_LEN 128u

struct status_conn;

struct status_server {
	struct ev_loop *loop;
	const struct options *opts;
	const struct peer_policy *policy;
	struct daemon_shm *shm;
	unsigned int guests; /* as mapped: shm->guests is the workers' too */
	struct status_guest *snap; /* one per guest, reused by every answer */

	char ctl_path[108]; /* "" when there is no control socket */
	struct sock_file_id ctl_id;
	int ctl_fd;
	struct ev_watch ctl_watch;
	struct door ctl_door; /* who may ask: the consoles' rule */
	int metrics_fd;
	struct ev_watch metrics_watch;
	struct door metrics_door;
	int timer_fd; /* the earliest connection deadline */
	struct ev_watch timer_watch;
	int wake_fd; /* the workers' eventfd (guest_stats_wake()) */
	struct ev_watch wake_watch;

	struct status_conn *conns; /* STATUS_MAX_CONNS */
	char summary[STATUS_SUMMARY_LEN];
	void (*summary_changed)(void *opaque, const char *summary);
	void *opaque;
};

int status_server_open(struct status_server *ss, const struct options *opts,
		       struct daemon_shm *shm, char *err, size_t errlen);
int status_server_start(struct status_server *ss, struct ev_loop *loop,
			const struct peer_policy *policy);
void status_server_refresh(struct status_server *ss);
void status_server_close_in_child(struct status_server *ss);
void status_server_fini(struct status_server *ss);

#endif
