/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * frontend.h - a small vhost-user frontend that plays the VMM in tests and
 * benchmarks: memfd guest memory, the negotiation as UML and as QEMU do
 * it, four split rings, kicks and calls, and the guest driver's side of
 * the console (rx buffers, tx chains, control messages).
 *
 * Every call returns 0 (or a count) on success and -1 on failure, with a
 * sentence in fe->err.
 */
#ifndef VDC_TEST_FRONTEND_H
#define VDC_TEST_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user_spec.h"
#include "virtio_spec.h"

#define FE_QUEUES   4 /* rx, tx and control: port 0 only */
#define FE_MAX_QUEUES 8 /* three ports */
#define FE_MAX_NUM  1024
#define FE_GPA_BASE 0x40000000ull
#define FE_UVA_BASE 0x7f1200000000ull

enum fe_style {
	FE_STYLE_QEMU, /* vhost-user-base: mmap offset 0, eventfd calls */
	FE_STYLE_UML, /* virtio_uml: mmap offset, pipe calls, 72-byte table */
};

struct fe_config {
	const char *socket_path;
	enum fe_style style;
	uint16_t queue_size; /* default 64 */
	uint32_t buf_size; /* bytes per descriptor buffer; default 4096 */
	uint64_t features; /* device features to accept; 0: all offered */
	bool no_protocol_features; /* do not ack VHOST_USER_F_PROTOCOL_FEATURES */
	bool no_enable; /* skip SET_VRING_ENABLE(1) */
	unsigned int queues; /* 0: FE_QUEUES; at most FE_MAX_QUEUES */
	bool no_backend_req; /* do not negotiate a back-end channel */
};

struct fe_ring {
	unsigned int index;
	uint16_t num;
	uint64_t desc_gpa, avail_gpa, used_gpa, data_gpa, table_gpa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx; /* next avail entry we publish */
	uint16_t kicked_idx; /* avail_idx at the last kick decision */
	uint16_t last_used; /* next used entry we read */
	uint16_t free_ids[FE_MAX_NUM];
	unsigned int nfree;
	uint16_t chain_len[FE_MAX_NUM]; /* direct descriptors per head */
	int kick_fd; /* we write */
	int call_fd; /* we read */
	int call_peer_fd; /* the daemon's end (closed after sending) */
};

struct fe {
	struct fe_config cfg;
	int sock;
	int memfd;
	uint8_t *map; /* whole memfd */
	size_t map_len;
	uint64_t mmap_offset;
	uint64_t mem_size;
	uint64_t alloc_next; /* bump allocator, gpa */
	uint64_t features; /* offered by the daemon */
	uint64_t acked; /* what we set */
	uint64_t protocol_features; /* negotiated */
	int chan_fd; /* our end of the back-end channel, -1 when none */
	bool event_idx;
	bool indirect;
	unsigned int nq; /* queues set up: cfg.queues or FE_QUEUES */
	struct fe_ring rings[FE_MAX_QUEUES];
	char err[512];
	/* Last reply header seen, for tests that check it. */
	struct vhost_user_header last_reply;
};

int fe_open(struct fe *fe, const struct fe_config *cfg);
void fe_close(struct fe *fe);
int fe_negotiate(struct fe *fe);

/* Raw messages. */
int fe_send(struct fe *fe, uint32_t req, uint32_t flags, const void *payload,
	    uint32_t size, const int *fds, unsigned int nfds);
int fe_recv(struct fe *fe, struct vhost_user_header *hdr, void *payload,
	    uint32_t cap, int timeout_ms);
int fe_request(struct fe *fe, uint32_t req, const void *payload, uint32_t size,
	       const int *fds, unsigned int nfds, void *reply,
	       uint32_t reply_cap);
int fe_get_u64(struct fe *fe, uint32_t req, uint64_t *v);
int fe_set_u64(struct fe *fe, uint32_t req, uint64_t v);
int fe_get_config(struct fe *fe, uint32_t offset, uint32_t size, void *out);
int fe_set_config(struct fe *fe, uint32_t offset, uint32_t size,
		  const void *data);

/* The back-end channel: what the daemon asks of us, and our answers. */
int fe_backend_recv(struct fe *fe, struct vhost_user_header *hdr,
		    int timeout_ms);
int fe_backend_reply(struct fe *fe, const struct vhost_user_header *req,
		     uint64_t value);

/* Guest memory. */
void *fe_gpa(struct fe *fe, uint64_t gpa);
uint64_t fe_alloc(struct fe *fe, uint64_t size, uint64_t align);

/* Rings. */
int fe_post_rx(struct fe *fe, unsigned int q, unsigned int count, uint32_t len);
int fe_submit_tx(struct fe *fe, unsigned int q, const void *data, size_t len,
		 uint32_t seg, bool indirect);
int fe_publish(struct fe *fe, unsigned int q);
int fe_get_used(struct fe *fe, unsigned int q, uint16_t *id, uint32_t *len);
void *fe_buf(struct fe *fe, unsigned int q, uint16_t id);
int fe_wait_call(struct fe *fe, unsigned int q, int timeout_ms);
void fe_kick(struct fe *fe, unsigned int q);
unsigned int fe_ring_free(const struct fe *fe, unsigned int q);

/* The guest driver's side of the console. */
int fe_ctrl_send(struct fe *fe, uint32_t id, uint16_t event, uint16_t value);
int fe_ctrl_recv(struct fe *fe, struct virtio_console_control *m, char *extra,
		 size_t extra_cap, size_t *extra_len, int timeout_ms);
int fe_console_handshake(struct fe *fe, char *name, size_t name_cap);
int fe_read_rx(struct fe *fe, void *buf, size_t cap, int timeout_ms);
int fe_read_rx_queue(struct fe *fe, unsigned int q, void *buf, size_t cap,
		     int timeout_ms);

#endif
