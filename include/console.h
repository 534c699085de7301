/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console.h - the virtio-console device with one port, VIRTIO_CONSOLE_F_
 * MULTIPORT, between the guest's queues and a backend's client.
 */
#ifndef VDC_CONSOLE_H
#define VDC_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend.h"
#include "outbuf.h"
#include "vhost_user.h"
#include "virtio_spec.h"

#define CONSOLE_CTRL_PENDING_MAX 32
#define CONSOLE_PORT_NAME_MAX	 64

struct console_ctrl_msg {
	struct virtio_console_control hdr;
	uint8_t extra[CONSOLE_PORT_NAME_MAX]; /* PORT_NAME's name, RESIZE's size
					       */
	uint32_t extra_len;
};

struct console {
	struct vu_dev *vu;
	struct backend *backend;
	struct outbuf out;
	unsigned int index;
	char port_name[CONSOLE_PORT_NAME_MAX];
	uint16_t cols, rows; /* config space; the real size if size_known */
	bool size_known; /* a backend said the size: F_SIZE is offered */
	enum console_size_order size_order; /* of RESIZE's two numbers */

	/* What the guest driver has told us. */
	bool device_ready;
	bool port_ready;
	bool guest_open;

	/* Control messages waiting for ctrl-rx buffers, in order. */
	struct console_ctrl_msg ctrl[CONSOLE_CTRL_PENDING_MAX];
	unsigned int ctrl_head, ctrl_count;

	/* Scratch for batches of chains. */
	struct iovec *iov;
	unsigned int iov_cap;
	uint16_t *heads;
	uint32_t *lens;
	unsigned int heads_cap;

	uint64_t dropped_reported_ms;
};

extern const uint64_t console_device_features;

int console_init(struct console *c, unsigned int index, size_t out_buffer,
		 uint32_t max_queue_size);
void console_fini(struct console *c);
void console_attach(struct console *c, struct vu_dev *vu,
		    struct backend *backend);
void console_queue_kick(struct console *c, struct virtqueue *vq);
void console_reset(struct console *c);
void console_get_config(struct console *c, uint32_t offset, uint8_t *buf,
			uint32_t len);
int console_set_config(struct console *c, uint32_t offset, const uint8_t *buf,
		       uint32_t len);

/* The console's size, as a backend knows it. */
void console_set_size(struct console *c, uint16_t cols, uint16_t rows);
void console_set_size_order(struct console *c, enum console_size_order order);
uint64_t console_features(const struct console *c);
void console_features_set(struct console *c);

/* What the backend's client did. */
void console_client_connected(struct console *c);
void console_client_input(struct console *c);
void console_client_writable(struct console *c);

#endif
