/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * virtqueue.h - split virtqueues, device side.
 *
 * A popped chain is a run of iovecs pointing straight into guest memory:
 * the readable part (driver to device) first, then the writable part.
 * Nothing is copied; every address and length has been checked to lie in
 * guest memory. The guest is untrusted: a malformed ring marks the queue
 * broken (logged once) and it is not touched again until reset.
 */
#ifndef VDC_VIRTQUEUE_H
#define VDC_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "guest_mem.h"
#include "virtio_spec.h"

struct vq_chain {
	uint16_t head;
	unsigned int n_out; /* readable iovecs, first */
	unsigned int n_in; /* writable iovecs, after them */
	uint32_t out_len;
	uint32_t in_len;
	struct iovec *iov;
};

enum vq_pop_result {
	VQ_POP_BROKEN = -1, /* the ring is malformed; queue stopped */
	VQ_POP_EMPTY = 0,
	VQ_POP_OK = 1,
	VQ_POP_NOSPACE = 2, /* the chain needs more iovecs than given */
};

struct virtqueue {
	unsigned int index;
	uint16_t num; /* queue size; 0 until SET_VRING_NUM */
	bool enabled;
	bool started;
	bool broken;
	bool event_idx;
	bool indirect;
	bool notify_on_empty;

	uint64_t desc_uva, avail_uva, used_uva;
	bool addr_set;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	uint16_t last_avail_idx; /* next entry to pop */
	uint16_t used_idx; /* next used entry to fill */
	uint16_t signalled_used;
	bool signalled_used_valid;
	unsigned int inflight;

	int kick_fd;
	int call_fd;
	int err_fd;
	struct guest_mem *mem;
};

void vq_init(struct virtqueue *vq, unsigned int index, struct guest_mem *mem);
void vq_reset(struct virtqueue *vq);
void vq_set_features(struct virtqueue *vq, uint64_t features);
void vq_set_num(struct virtqueue *vq, uint16_t num);
int vq_set_addr(struct virtqueue *vq, uint64_t desc, uint64_t avail,
		uint64_t used);
int vq_map(struct virtqueue *vq);
bool vq_ready(const struct virtqueue *vq);

enum vq_pop_result vq_pop(struct virtqueue *vq, struct iovec *iov,
			  unsigned int cap, struct vq_chain *chain);
void vq_unpop(struct virtqueue *vq, unsigned int n);
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);
void vq_flush(struct virtqueue *vq);
void vq_notify(struct virtqueue *vq);
bool vq_has_avail(struct virtqueue *vq);
bool vq_kick_self(struct virtqueue *vq);
bool vq_enable_notify(struct virtqueue *vq);

#endif
