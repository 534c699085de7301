/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * vu_chan.h - the vhost-user back-end channel: the socket a frontend hands
 * over with VHOST_USER_SET_BACKEND_REQ_FD, on which the daemon sends its
 * own requests (here only VHOST_USER_BACKEND_CONFIG_CHANGE_MSG).
 */
#ifndef VDC_VU_CHAN_H
#define VDC_VU_CHAN_H

#include <stdbool.h>
#include <stdint.h>

#include "event_loop.h"
#include "vhost_user_spec.h"

struct vu_chan {
	struct ev_loop *loop;
	int fd; /* -1 when the frontend gave none (or it died) */
	struct ev_watch watch;
	bool want_ack; /* REPLY_ACK negotiated: ask for an answer */
	unsigned int acks_due; /* requests still waiting for their answer */
	/* A reply being read: header, then a u64. */
	uint8_t in[sizeof(struct vhost_user_header) + sizeof(uint64_t)];
	unsigned int in_have;
};

void vu_chan_init(struct vu_chan *ch, struct ev_loop *loop);
int vu_chan_attach(struct vu_chan *ch, int fd, bool want_ack);
void vu_chan_close(struct vu_chan *ch);
int vu_chan_config_changed(struct vu_chan *ch);

#endif
