/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * control.h - the device's side of the virtio-console control queues:
 * messages to the driver wait, in order and one per port and event, until
 * the driver posts control-receive buffers for them.
 */
#ifndef VDC_CONTROL_H
#define VDC_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost_user.h"
#include "virtio_spec.h"

/* One message per port and event: DEVICE_ADD, PORT_NAME and PORT_OPEN for
 * each of 32 ports, the console's CONSOLE_PORT and RESIZE, and room. */
#define CONTROL_PENDING_MAX 128
#define CONTROL_EXTRA_MAX   64 /* PORT_NAME's name, RESIZE's size */

struct control_msg {
	struct virtio_console_control hdr;
	uint8_t extra[CONTROL_EXTRA_MAX];
	uint32_t extra_len;
};

struct control {
	struct vu_dev *vu;
	struct control_msg msg[CONTROL_PENDING_MAX];
	unsigned int head, count;
	struct iovec *iov; /* for popping a control-receive chain */
	unsigned int iov_cap;
};

int control_init(struct control *ctl, uint32_t max_queue_size);
void control_fini(struct control *ctl);
void control_attach(struct control *ctl, struct vu_dev *vu);
void control_send(struct control *ctl, uint32_t port, uint16_t event,
		  uint16_t value, const void *extra, uint32_t extra_len);
void control_flush(struct control *ctl);
void control_reset(struct control *ctl);

#endif
