/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * vhost_user.h - the backend side of the vhost-user protocol.
 *
 * One frontend connection at a time. The protocol layer owns guest memory,
 * the virtqueues and their kick/call fds; the device (the console) sees
 * queues through a few callbacks and never sees a message.
 */
#ifndef VDC_VHOST_USER_H
#define VDC_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "event_loop.h"
#include "guest_mem.h"
#include "vhost_user_spec.h"
#include "virtqueue.h"
#include "vu_chan.h"

/* The queues one device may have: this layer's own bound (the device
 * checks that what it needs fits, as console.c does). */
#define VU_MAX_QUEUES  128
#define VU_MAX_PAYLOAD 4096

/* What the device tells the protocol layer about itself. */
struct vu_device {
	uint64_t features; /* virtio feature bits the device offers */
	unsigned int num_queues;
	uint32_t config_size;
	void *opaque;
	/* The guest kicked @vq, or it just became ready: process it. */
	void (*queue_kick)(void *opaque, struct virtqueue *vq);
	/* Session over or device reset: drop all device state. */
	void (*reset)(void *opaque);
	/* Copy config bytes [offset, offset+len), already range-checked. */
	void (*get_config)(void *opaque, uint32_t offset, uint8_t *buf,
			   uint32_t len);
	int (*set_config)(void *opaque, uint32_t offset, const uint8_t *buf,
			  uint32_t len);
	/* The frontend is gone; the worker may accept the next one. */
	void (*disconnected)(void *opaque);
	/* Optional: SET_FEATURES was accepted (vu->acked_features is set). */
	void (*features_set)(void *opaque);
	/* Optional: guest memory is about to change, or a queue to stop:
	 * chains the device holds popped must go back to the ring now. */
	void (*release_held)(void *opaque);
};

struct vu_msg {
	struct vhost_user_header hdr;
	union {
		uint64_t u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_mem_table mem;
		struct vhost_user_mem_single memreg;
		struct vhost_user_config config;
		uint8_t bytes[VU_MAX_PAYLOAD];
	} payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds;
};

struct vu_dev {
	const struct vu_device *dev;
	struct ev_loop *loop;
	uint32_t max_queue_size;

	int fd; /* the frontend connection, -1 when none */
	struct ev_watch watch;
	struct vu_msg in; /* message being received */
	size_t in_have; /* bytes of it so far */
	bool in_fd_overflow;

	uint64_t acked_features;
	uint64_t protocol_features;
	uint8_t status;
	bool owner;
	unsigned int queues_seen; /* highest queue index named, plus one */
	struct guest_mem mem;
	struct virtqueue vqs[VU_MAX_QUEUES];
	struct ev_watch kick_watch[VU_MAX_QUEUES];
	struct vu_chan chan; /* the back-end channel, if the frontend gave one */
};

void vu_init(struct vu_dev *vu, struct ev_loop *loop,
	     const struct vu_device *dev, uint32_t max_queue_size);
int vu_attach(struct vu_dev *vu, int fd);
void vu_detach(struct vu_dev *vu);
bool vu_connected(const struct vu_dev *vu);
bool vu_peer_gone(const struct vu_dev *vu);
unsigned int vu_queues_seen(const struct vu_dev *vu);
bool vu_feature(const struct vu_dev *vu, unsigned int bit);
void vu_dispatch(struct vu_dev *vu, struct vu_msg *msg);
void vu_check_memory(void *arg);
void vu_note_memory_fault(struct vu_dev *vu);
int vu_notify_config_change(struct vu_dev *vu);

#endif
