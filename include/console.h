/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console.h - the virtio-console device with VIRTIO_CONSOLE_F_MULTIPORT:
 * config space, the control messages, and its ports (port 0 the console,
 * then the named data ports), each with its own queues and host side.
 */
#ifndef VDC_CONSOLE_H
#define VDC_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "control.h"
#include "options.h"
#include "port.h"
#include "vhost_user.h"
#include "virtio_spec.h"

#define CONSOLE_MAX_PORTS  (1 + MAX_EXTRA_PORTS)
#define CONSOLE_MAX_QUEUES (2 * CONSOLE_MAX_PORTS + 2)

/* How to make the device of one guest. */
struct console_config {
	unsigned int index; /* the guest's socket index */
	const struct options *opts;
	int backend_listen_fd; /* port 0's listener; -1 for nested */
	const int *port_listen_fd; /* one per --port */
	struct ev_loop *loop;
	struct vu_dev *vu;
	const struct port_owner *owner;
	struct guest_stats_writer *stats; /* the guest's counters, or NULL */
};

struct console {
	struct vu_dev *vu;
	struct control ctl;
	struct port *ports; /* nports of them */
	unsigned int nports; /* configured: 1 + the --port count */
	unsigned int nports_offered; /* what this frontend can carry */
	uint16_t cols, rows; /* config space; the real size if size_known */
	bool size_known; /* a backend said the size: F_SIZE is offered */
	enum console_size_order size_order; /* of RESIZE's two numbers */
	bool device_ready; /* DEVICE_READY from the driver */
	struct iovec *iov; /* for popping control-transmit chains */
	unsigned int iov_cap;
};

extern const uint64_t console_device_features;

int console_init(struct console *c, const struct console_config *cfg);
void console_fini(struct console *c);
unsigned int console_num_queues(const struct console *c);
void console_queue_kick(struct console *c, struct virtqueue *vq);
void console_reset(struct console *c);
void console_release_held(struct console *c);
void console_get_config(struct console *c, uint32_t offset, uint8_t *buf,
			uint32_t len);
int console_set_config(struct console *c, uint32_t offset, const uint8_t *buf,
		       uint32_t len);

/* The console's size, as a backend knows it. */
void console_set_size(struct console *c, uint16_t cols, uint16_t rows);
void console_set_size_order(struct console *c, enum console_size_order order);
uint64_t console_features(const struct console *c);
void console_features_set(struct console *c);

#endif
