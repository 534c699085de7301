/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * virtio_spec.h - constants and layouts from the VirtIO 1.x specification
 * (split virtqueues, feature bits, device status, the console device).
 *
 * Everything here is little-endian on the wire; this daemon runs on
 * little-endian hosts only (checked below).
 */
#ifndef VDC_VIRTIO_SPEC_H
#define VDC_VIRTIO_SPEC_H

#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vhost-device-console supports little-endian hosts only"
#endif

#define VIRTIO_ID_CONSOLE 3

/* Feature bits (bit numbers, not masks). */
#define VIRTIO_F_NOTIFY_ON_EMPTY    24
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX	    29
#define VIRTIO_F_VERSION_1	    32

#define VIRTIO_CONSOLE_F_SIZE	     0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Device status bits. */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE	   1
#define VIRTIO_CONFIG_S_DRIVER		   2
#define VIRTIO_CONFIG_S_DRIVER_OK	   4
#define VIRTIO_CONFIG_S_FEATURES_OK	   8
#define VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED		   0x80

/* Split virtqueue. */
#define VRING_DESC_F_NEXT     1
#define VRING_DESC_F_WRITE    2
#define VRING_DESC_F_INDIRECT 4

#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY	   1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event */
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[]; /* then avail_event */
};

#define VRING_DESC_ALIGN  16
#define VRING_AVAIL_ALIGN 2
#define VRING_USED_ALIGN  4

static inline uint64_t vring_desc_bytes(unsigned int num)
{
	return (uint64_t)num * sizeof(struct vring_desc);
}

/* flags, idx, ring[num], used_event */
static inline uint64_t vring_avail_bytes(unsigned int num)
{
	return 4 + 2 * (uint64_t)num + 2;
}

/* flags, idx, ring[num], avail_event */
static inline uint64_t vring_used_bytes(unsigned int num)
{
	return 4 + 8 * (uint64_t)num + 2;
}

/* Console device: config space and control messages. */
struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

struct virtio_console_control {
	uint32_t id;
	uint16_t event;
	uint16_t value;
};

#define VIRTIO_CONSOLE_DEVICE_READY  0
#define VIRTIO_CONSOLE_DEVICE_ADD    1
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY    3
#define VIRTIO_CONSOLE_CONSOLE_PORT  4
#define VIRTIO_CONSOLE_RESIZE	     5
#define VIRTIO_CONSOLE_PORT_OPEN     6
#define VIRTIO_CONSOLE_PORT_NAME     7

/* Queue numbers with MULTIPORT and one port. */
#define CONSOLE_QUEUE_RX      0
#define CONSOLE_QUEUE_TX      1
#define CONSOLE_QUEUE_CTRL_RX 2
#define CONSOLE_QUEUE_CTRL_TX 3
#define CONSOLE_NUM_QUEUES    4

#endif
