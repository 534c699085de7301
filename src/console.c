/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console.c - the virtio-console device: config space, the driver's
 * control messages, and the ports they bring up.
 *
 * With VIRTIO_CONSOLE_F_MULTIPORT the driver learns of every port from a
 * control message (PORT_ADD), sets it up and says so (PORT_READY); port 0
 * is then made a console (CONSOLE_PORT: hvc0 in Linux), the others get
 * their names (PORT_NAME: /dev/virtio-ports/NAME). Each port's data path
 * and host side live in port.c; this file routes queues and messages to
 * them.
 *
 * The number of ports is max_nr_ports in config space, and the driver then
 * wants 2 queues per port and 2 for control. QEMU's generic vhost-user
 * device has a fixed number of queues (num_vqs), which it announces at
 * start with a SET_VRING_CALL for each: a frontend with fewer queues than
 * the ports need is offered only the ports that fit, so its guest still
 * gets a working console on port 0.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "iov.h"
#include "log.h"

/* The limits this device needs from the layers below it. */
_Static_assert(CONSOLE_MAX_QUEUES <= VU_MAX_QUEUES,
	       "the protocol layer holds every queue of the largest console");
_Static_assert(CONTROL_EXTRA_MAX >= PORT_NAME_MAX,
	       "a PORT_NAME message carries the longest name whole");

#define CONSOLE_DEFAULT_COLS 20
#define CONSOLE_DEFAULT_ROWS 20

const uint64_t console_device_features = (1ULL << VIRTIO_F_VERSION_1) |
					 (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) |
					 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
					 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
					 (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) |
					 (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE);

/** console_num_queues() - the queues all configured ports need */
unsigned int console_num_queues(const struct console *c)
{
	return 2 * c->nports + 2;
}

/*
 * ports_offered() - how many ports this frontend's queues can carry
 *
 * Unknown until the frontend says (UML makes whatever queues the driver
 * asks for, and says nothing before): then all of them.
 */
static unsigned int ports_offered(struct console *c)
{
	unsigned int queues = vu_queues_seen(c->vu);
	unsigned int fit;

	if (queues == 0 || queues >= console_num_queues(c))
		return c->nports;
	fit = queues >= 4 ? (queues - 2) / 2 : 1;
	if (fit != c->nports_offered)
		log_warn("the frontend has %u queues: %u of %u ports fit (num_vqs = 2 x ports + 2 = %u carries them all)",
			 queues, fit, c->nports, console_num_queues(c));
	return fit;
}

/* The port a driver's message names, if it was offered. */
static struct port *port_of(struct console *c, uint32_t id, uint16_t event)
{
	if (id < c->nports_offered)
		return &c->ports[id];
	log_warn("control event %u for port %u, which was never added; ignored",
		 event, id);
	return NULL;
}

/* --- the driver's control messages ----------------------------------- */

static void send_resize(struct console *c);

static void device_ready(struct console *c, uint16_t value)
{
	if (value != 1) {
		log_error("guest driver failed to set up the device (DEVICE_READY %u)", value);
		return;
	}
	c->device_ready = true;
	c->nports_offered = ports_offered(c);
	for (unsigned int i = 0; i < c->nports_offered; i++)
		control_send(&c->ctl, i, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL, 0);
}

static void port_ready(struct console *c, struct port *p, uint16_t value)
{
	if (value != 1) {
		log_error("guest failed to set up port %u (PORT_READY %u)",
			  p->id, value);
		return;
	}
	port_set_ready(p);
	/* Port 0 is a console port now: Linux takes a size for it. */
	if (p->is_console && c->size_known &&
	    vu_feature(c->vu, VIRTIO_CONSOLE_F_SIZE))
		send_resize(c);
}

static void handle_ctrl(struct console *c,
			const struct virtio_console_control *m)
{
	struct port *p;

	log_debug("control event %u port %u value %u", m->event, m->id,
		  m->value);
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		device_ready(c, m->value);
		return;
	case VIRTIO_CONSOLE_PORT_READY:
		p = port_of(c, m->id, m->event);
		if (p)
			port_ready(c, p, m->value);
		return;
	case VIRTIO_CONSOLE_PORT_OPEN:
		p = port_of(c, m->id, m->event);
		if (p)
			port_set_guest_open(p, m->value != 0);
		return;
	default:
		log_warn("unknown control event %u (port %u, value %u) ignored",
			 m->event, m->id, m->value);
	}
}

static void ctrl_tx(struct console *c, struct virtqueue *vq)
{
	struct virtio_console_control m = {0};
	bool pushed = false;
	struct vq_chain ch;

	while (vq_pop(vq, c->iov, c->iov_cap, &ch) == VQ_POP_OK) {
		bool whole = ch.out_len >= sizeof(m);

		if (whole)
			iov_to_buf(ch.iov, ch.n_out, &m, sizeof(m));
		vq_push(vq, ch.head, 0);
		pushed = true;
		if (whole)
			handle_ctrl(c, &m);
		else
			log_warn("control message of %u bytes ignored (needs %zu)",
				 ch.out_len, sizeof(m));
	}
	if (pushed) {
		vq_flush(vq);
		vq_notify(vq);
	}
}

/* --- the device ------------------------------------------------------ */

void console_queue_kick(struct console *c, struct virtqueue *vq)
{
	unsigned int q = vq->index, id;

	if (q == CONSOLE_QUEUE_CTRL_RX) {
		control_flush(&c->ctl);
		return;
	}
	if (q == CONSOLE_QUEUE_CTRL_TX) {
		ctrl_tx(c, vq);
		return;
	}
	id = q < 2 ? 0 : (q - 2) / 2;
	if (id < c->nports)
		port_queue_kick(&c->ports[id], q);
}

/** console_release_held() - data ports give their held output back */
void console_release_held(struct console *c)
{
	for (unsigned int i = 1; i < c->nports; i++)
		port_release_batch(&c->ports[i]);
}

/** console_reset() - the driver is gone or resetting: forget the ports */
void console_reset(struct console *c)
{
	c->device_ready = false;
	c->nports_offered = c->nports;
	control_reset(&c->ctl);
	for (unsigned int i = 0; i < c->nports; i++)
		port_reset(&c->ports[i]);
}

void console_get_config(struct console *c, uint32_t offset, uint8_t *buf,
			uint32_t len)
{
	struct virtio_console_config cfg = {
		.cols = c->cols,
		.rows = c->rows,
		.emerg_wr = 0,
	};

	c->nports_offered = ports_offered(c);
	cfg.max_nr_ports = c->nports_offered;
	memcpy(buf, (const uint8_t *)&cfg + offset, len);
}

/*
 * Only emerg_wr is writable (VIRTIO_CONSOLE_F_EMERG_WRITE is offered, so a
 * driver may use it at any time, before the device is ready too): its
 * byte is console output like any other. The rest of the config space is
 * the device's to say. A frontend writes either emerg_wr alone (UML), or
 * the whole space as it read it with the driver's write in place (QEMU's
 * vhost-user-base): then the read-only fields must be what they are.
 */
int console_set_config(struct console *c, uint32_t offset, const uint8_t *buf,
		       uint32_t len)
{
	const uint32_t at = offsetof(struct virtio_console_config, emerg_wr);
	uint8_t now[sizeof(struct virtio_console_config)];

	if (offset == at && len == sizeof(uint32_t)) {
		port_emergency_write(&c->ports[0], buf[0]);
		return 0;
	}
	if (offset == 0 && len == sizeof(now)) {
		console_get_config(c, 0, now, at);
		if (memcmp(buf, now, at) == 0) {
			port_emergency_write(&c->ports[0], buf[at]);
			return 0;
		}
	}
	log_error("SET_CONFIG: offset %u size %u refused: only emerg_wr (offset 8, 4 bytes) is writable; cols, rows and max_nr_ports are read-only",
		  offset, len);
	return -1;
}

/* --- the console's size ---------------------------------------------- */

/* RESIZE's payload: two le16, in the order the guest reads them. */
static void send_resize(struct console *c)
{
	uint16_t first = c->cols, second = c->rows;
	uint8_t size[4];

	if (c->size_order == CONSOLE_SIZE_ORDER_ROWS_FIRST) {
		first = c->rows;
		second = c->cols;
	}
	memcpy(size, &first, sizeof(first));
	memcpy(size + 2, &second, sizeof(second));
	/* A RESIZE still waiting for a buffer just gets the newer size. */
	control_send(&c->ctl, 0, VIRTIO_CONSOLE_RESIZE, 0, size, sizeof(size));
}

/*
 * announce_size() - tell the driver the size, the way it listens: with
 * MULTIPORT a RESIZE for the console port (once it is one), without it a
 * config change notification (it then reads cols and rows)
 */
static void announce_size(struct console *c)
{
	if (!c->size_known || !c->vu || !vu_connected(c->vu) ||
	    !vu_feature(c->vu, VIRTIO_CONSOLE_F_SIZE))
		return;
	if (vu_feature(c->vu, VIRTIO_CONSOLE_F_MULTIPORT)) {
		if (c->ports[0].ready)
			send_resize(c);
		return;
	}
	if (vu_notify_config_change(c->vu) < 0)
		log_debug("console size %ux%u: no config change notification possible; the driver sees it when it next reads the config space",
			  c->cols, c->rows);
}

/**
 * console_set_size() - the console is @cols x @rows from now on
 *
 * Any backend may call this, at any time; the driver hears of it as soon
 * as it can take a size. Offered as VIRTIO_CONSOLE_F_SIZE to frontends
 * that connect after the first call (console_features()).
 */
void console_set_size(struct console *c, uint16_t cols, uint16_t rows)
{
	bool changed = !c->size_known || cols != c->cols || rows != c->rows;

	c->cols = cols;
	c->rows = rows;
	c->size_known = true;
	if (!changed)
		return;
	log_debug("console size %ux%u", cols, rows);
	announce_size(c);
}

void console_set_size_order(struct console *c, enum console_size_order order)
{
	c->size_order = order;
}

/** console_features() - the virtio features this console offers */
uint64_t console_features(const struct console *c)
{
	return console_device_features |
	       (c->size_known ? 1ULL << VIRTIO_CONSOLE_F_SIZE : 0);
}

/*
 * console_features_set() - the driver accepted its features. Without
 * MULTIPORT no control message will ever open port 0: it is a console
 * port, open from the start; and the driver learns the size now.
 */
void console_features_set(struct console *c)
{
	if (vu_feature(c->vu, VIRTIO_CONSOLE_F_MULTIPORT))
		return;
	port_set_guest_open(&c->ports[0], true);
	announce_size(c);
}

/**
 * console_init() - the device of one guest, with every port's host side
 * listening
 *
 * Return: 0, or -1 (logged; console_fini() cleans up)
 */
int console_init(struct console *c, const struct console_config *cfg)
{
	const struct options *o = cfg->opts;
	char name0[PORT_NAME_MAX + 1];

	memset(c, 0, sizeof(*c));
	c->vu = cfg->vu;
	c->nports = 1 + o->port_count;
	c->nports_offered = c->nports;
	/* Unused with MULTIPORT (Linux reads them only without it). */
	c->cols = CONSOLE_DEFAULT_COLS;
	c->rows = CONSOLE_DEFAULT_ROWS;
	c->iov_cap = o->max_queue_size;
	c->iov = calloc(c->iov_cap, sizeof(*c->iov));
	if (!c->iov || control_init(&c->ctl, o->max_queue_size) < 0) {
		log_error("out of memory for the console");
		return -1;
	}
	control_attach(&c->ctl, cfg->vu);
	/* calloc: what no port ever touches costs no memory. */
	c->ports = calloc(c->nports, sizeof(*c->ports));
	if (!c->ports) {
		log_error("out of memory for %u ports", c->nports);
		c->nports = 0;
		return -1;
	}
	for (unsigned int i = 0; i < c->nports; i++)
		c->ports[i].idle_fd = -1;
	snprintf(name0, sizeof(name0), CONSOLE_NAME_FORMAT, cfg->index);
	for (unsigned int i = 0; i < c->nports; i++) {
		struct port_config pc = {
			.id = i,
			.name = i ? o->ports[i - 1].name : name0,
			.kind = i ? BACKEND_UDS : o->backend,
			.listen_fd = i ? cfg->port_listen_fd[i - 1]
				       : cfg->backend_listen_fd,
			.index = cfg->index,
			.out_buffer = o->output_buffer,
			.max_clients = o->max_clients,
			.max_queue_size = o->max_queue_size,
			.loop = cfg->loop,
			.vu = cfg->vu,
			.ctl = &c->ctl,
			.owner = cfg->owner,
			.stats = cfg->stats,
			.policy = &o->access,
		};

		if (port_init(&c->ports[i], &pc) < 0)
			return -1;
	}
	return 0;
}

void console_fini(struct console *c)
{
	for (unsigned int i = 0; c->ports && i < c->nports; i++)
		port_fini(&c->ports[i]);
	free(c->ports);
	c->ports = NULL;
	control_fini(&c->ctl);
	free(c->iov);
	c->iov = NULL;
}
