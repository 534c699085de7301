/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * console.c - the virtio-console device: config space, control messages
 * and the data path between the guest's rings and the backend's client.
 *
 * Guest output (tx) is written straight from guest memory to the client,
 * one writev() per batch of chains; what the client cannot take now waits
 * in a bounded buffer, so tx chains always complete at once (Linux's hvc
 * writer spins the vCPU until they do). Host input (rx) is read straight
 * into the guest's buffers; while the guest has none, the client is not
 * read at all, so nothing typed is lost.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "event_loop.h"
#include "iov.h"
#include "log.h"

#define IOV_BATCH	     1024 /* iovecs per writev()/readv() batch */
#define RX_BATCH_BYTES	     (256u << 10) /* guest buffer space per readv() */
#define RX_ROUNDS	     16 /* batches before yielding to the loop */
#define TX_ROUNDS	     16
#define DROP_REPORT_MS	     1000
#define CONSOLE_DEFAULT_COLS 20
#define CONSOLE_DEFAULT_ROWS 20

const uint64_t console_device_features = (1ULL << VIRTIO_F_VERSION_1) |
					 (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) |
					 (1ULL << VIRTIO_RING_F_EVENT_IDX) |
					 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
					 (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) |
					 (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE);

/* --- control messages ------------------------------------------------ */

/* Send what is pending while the guest has ctrl-rx buffers, in order. */
static void ctrl_flush(struct console *c)
{
	struct virtqueue *vq = &c->vu->vqs[CONSOLE_QUEUE_CTRL_RX];
	bool pushed = false;
	struct vq_chain ch;

	while (c->ctrl_count) {
		struct console_ctrl_msg *m = &c->ctrl[c->ctrl_head];
		uint32_t need = sizeof(m->hdr) + m->extra_len;
		const struct iovec *in;

		if (vq_pop(vq, c->iov, c->iov_cap, &ch) != VQ_POP_OK)
			break;
		in = ch.iov + ch.n_out;
		if (ch.in_len < sizeof(m->hdr)) {
			/* Linux would read stale bytes from a short entry:
			 * the buffer goes back empty and the event is lost. */
			log_error("control buffer of %u bytes cannot hold "
				  "event "
				  "%u; event dropped",
				  ch.in_len, m->hdr.event);
			vq_push(vq, ch.head, 0);
		} else {
			uint8_t tmp[sizeof(m->hdr) + sizeof(m->extra)];

			if (ch.in_len < need) {
				log_warn("control buffer of %u bytes: event "
					 "%u's "
					 "payload cut to fit",
					 ch.in_len, m->hdr.event);
				need = ch.in_len;
			}
			/* The header, then its payload, in one buffer. */
			memcpy(tmp, &m->hdr, sizeof(m->hdr));
			memcpy(tmp + sizeof(m->hdr), m->extra, m->extra_len);
			iov_from_buf(in, ch.n_in, tmp, need);
			vq_push(vq, ch.head, need);
		}
		pushed = true;
		c->ctrl_head = (c->ctrl_head + 1) % CONSOLE_CTRL_PENDING_MAX;
		c->ctrl_count--;
	}
	if (pushed) {
		vq_flush(vq);
		vq_notify(vq);
	}
}

static void ctrl_send(struct console *c, uint16_t event, uint16_t value,
		      const void *extra, uint32_t extra_len)
{
	struct console_ctrl_msg *m;

	if (c->ctrl_count == CONSOLE_CTRL_PENDING_MAX) {
		log_error("control event %u dropped: %d events wait for the "
			  "guest to post control buffers",
			  event, CONSOLE_CTRL_PENDING_MAX);
		return;
	}
	m = &c->ctrl[(c->ctrl_head + c->ctrl_count) % CONSOLE_CTRL_PENDING_MAX];
	m->hdr.id = 0;
	m->hdr.event = event;
	m->hdr.value = value;
	m->extra_len = extra_len;
	if (extra_len)
		memcpy(m->extra, extra, extra_len);
	c->ctrl_count++;
	ctrl_flush(c);
}

static void console_rx(struct console *c);
static void send_resize(struct console *c);

static void handle_port_ready(struct console *c, uint16_t value)
{
	if (value != 1) {
		log_error("guest failed to set up console port 0 "
			  "(PORT_READY %u)",
			  value);
		return;
	}
	c->port_ready = true;
	ctrl_send(c, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL, 0);
	ctrl_send(c, VIRTIO_CONSOLE_PORT_NAME, 0, c->port_name,
		  (uint32_t)strlen(c->port_name));
	ctrl_send(c, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL, 0);
	/* Port 0 is a console port now: Linux takes a size for it. */
	if (c->size_known && vu_feature(c->vu, VIRTIO_CONSOLE_F_SIZE))
		send_resize(c);
}

static void handle_ctrl(struct console *c,
			const struct virtio_console_control *m)
{
	log_debug("control event %u port %u value %u", m->event, m->id,
		  m->value);
	switch (m->event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		if (m->value != 1) {
			log_error("guest driver failed to set up the device "
				  "(DEVICE_READY %u)",
				  m->value);
			return;
		}
		c->device_ready = true;
		ctrl_send(c, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL, 0);
		return;
	case VIRTIO_CONSOLE_PORT_READY:
		if (m->id != 0) {
			log_warn("PORT_READY for port %u, which was never "
				 "added; ignored",
				 m->id);
			return;
		}
		handle_port_ready(c, m->value);
		return;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (m->id != 0) {
			log_warn("PORT_OPEN for port %u, which was never "
				 "added; "
				 "ignored",
				 m->id);
			return;
		}
		c->guest_open = m->value != 0;
		log_info("guest %s the console",
			 c->guest_open ? "opened" : "closed");
		if (c->guest_open)
			console_rx(c);
		else if (backend_connected(c->backend))
			backend_want_input(c->backend, false);
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
		/* Copy out first: handling reuses the scratch iovecs. */
		uint16_t head = ch.head;
		bool whole = ch.out_len >= sizeof(m);

		if (whole)
			iov_to_buf(ch.iov, ch.n_out, &m, sizeof(m));
		vq_push(vq, head, 0);
		pushed = true;
		if (whole)
			handle_ctrl(c, &m);
		else
			log_warn("control message of %u bytes ignored (needs "
				 "%zu)",
				 ch.out_len, sizeof(m));
	}
	if (pushed) {
		vq_flush(vq);
		vq_notify(vq);
	}
}

/* --- guest output ---------------------------------------------------- */

static void report_drops(struct console *c)
{
	uint64_t now;

	if (!c->out.dropped || !backend_connected(c->backend))
		return;
	now = ev_now_ms();
	if (now - c->dropped_reported_ms < DROP_REPORT_MS)
		return;
	c->out.dropped_total += c->out.dropped;
	log_warn("console client is slow: dropped the oldest %llu bytes of "
		 "guest output (%llu in all; --output-buffer is %zu bytes)",
		 (unsigned long long)c->out.dropped,
		 (unsigned long long)c->out.dropped_total, c->out.cap);
	c->out.dropped = 0;
	c->dropped_reported_ms = now;
}

/*
 * deliver_output() - send a batch of guest output to the client
 * @iov:	the batch; the two slots before iov[0] are free scratch
 *
 * Older buffered output and the batch go out in one writev(), straight
 * from guest memory; only what the client does not take now is copied
 * into the buffer.
 */
static void deliver_output(struct console *c, struct iovec *iov, unsigned int n)
{
	size_t written = 0;

	if (c->backend->out_fd >= 0) {
		struct iovec old[2];
		unsigned int k = outbuf_peek(&c->out, old);
		size_t held = c->out.len;
		ssize_t w;

		memcpy(iov - k, old, k * sizeof(*old));
		w = backend_write(c->backend, iov - k, n + k);
		if (w > 0 && (size_t)w <= held) {
			outbuf_consume(&c->out, (size_t)w);
		} else if (w > 0) {
			outbuf_consume(&c->out, held);
			written = (size_t)w - held;
		}
	}
	outbuf_append(&c->out, iov, n, written);
	report_drops(c);
	if (backend_connected(c->backend))
		backend_want_output(c->backend, c->out.len > 0);
}

static void console_tx(struct console *c, struct virtqueue *vq)
{
	/* Two slots in front of the batch for deliver_output(). */
	struct iovec *batch = c->iov + 2;
	unsigned int cap = c->iov_cap - 2;

	for (unsigned int round = 0;; round++) {
		unsigned int n_iov = 0, n_chains = 0;
		enum vq_pop_result r = VQ_POP_OK;
		struct vq_chain ch;

		/* A guest that never stops writing must not starve input. */
		if (round >= TX_ROUNDS && vq_kick_self(vq))
			return;
		while (n_iov < IOV_BATCH && n_chains < c->heads_cap) {
			r = vq_pop(vq, batch + n_iov, cap - n_iov, &ch);
			if (r != VQ_POP_OK)
				break;
			c->heads[n_chains++] = ch.head;
			n_iov += ch.n_out; /* a writable part is ignored */
		}
		if (n_chains == 0)
			return;
		deliver_output(c, batch, n_iov);
		for (unsigned int i = 0; i < n_chains; i++)
			vq_push(vq, c->heads[i], 0);
		vq_flush(vq);
		vq_notify(vq);
		if (r != VQ_POP_OK)
			return;
	}
}

void console_client_writable(struct console *c)
{
	struct iovec iov[2];
	unsigned int n = outbuf_peek(&c->out, iov);
	ssize_t w;

	if (n) {
		w = backend_write(c->backend, iov, n);
		if (w > 0)
			outbuf_consume(&c->out, (size_t)w);
	}
	if (c->out.len == 0 && backend_connected(c->backend))
		backend_want_output(c->backend, false);
}

/* --- host input ------------------------------------------------------ */

/* Return the first @used chains with what they got, the rest untouched. */
static void complete_rx(struct virtqueue *vq, struct console *c,
			unsigned int n_chains, size_t got)
{
	unsigned int used = 0;

	for (; used < n_chains && got; used++) {
		uint32_t len =
			got < c->lens[used] ? (uint32_t)got : c->lens[used];

		vq_push(vq, c->heads[used], len);
		got -= len;
	}
	vq_unpop(vq, n_chains - used);
	if (used) {
		vq_flush(vq);
		vq_notify(vq);
	}
}

static bool input_possible(struct console *c, struct virtqueue *vq)
{
	return backend_connected(c->backend) && backend_has_input(c->backend) &&
	       c->guest_open && vq_ready(vq);
}

static void console_rx(struct console *c)
{
	struct virtqueue *vq = &c->vu->vqs[CONSOLE_QUEUE_RX];

	for (unsigned int round = 0; round < RX_ROUNDS; round++) {
		unsigned int n_iov = 0, n_chains = 0;
		size_t room = 0;
		struct vq_chain ch;
		ssize_t n;

		if (!input_possible(c, vq)) {
			if (backend_connected(c->backend))
				backend_want_input(c->backend, false);
			return;
		}
		while (n_iov < IOV_BATCH && n_chains < c->heads_cap &&
		       room < RX_BATCH_BYTES &&
		       vq_pop(vq, c->iov + n_iov, c->iov_cap - n_iov, &ch) ==
			       VQ_POP_OK) {
			/* Only the writable part takes input. */
			if (ch.n_out)
				memmove(c->iov + n_iov,
					c->iov + n_iov + ch.n_out,
					ch.n_in * sizeof(*c->iov));
			c->heads[n_chains] = ch.head;
			c->lens[n_chains++] = ch.in_len;
			n_iov += ch.n_in;
			room += ch.in_len;
		}
		if (n_chains == 0) {
			/* No buffers: leave the input in the client's socket. */
			backend_want_input(c->backend, false);
			if (vq_enable_notify(vq))
				continue;
			return;
		}
		if (room == 0) { /* only empty buffers: give them back */
			for (unsigned int i = 0; i < n_chains; i++)
				vq_push(vq, c->heads[i], 0);
			vq_flush(vq);
			vq_notify(vq);
			continue;
		}
		n = backend_read(c->backend, c->iov, n_iov);
		if (n <= 0) {
			vq_unpop(vq, n_chains);
			if (n == 0 && backend_connected(c->backend) &&
			    backend_has_input(c->backend))
				backend_want_input(c->backend, true);
			return;
		}
		complete_rx(vq, c, n_chains, (size_t)n);
		if ((size_t)n < room) {
			backend_want_input(c->backend, true);
			return;
		}
	}
	/* More may be waiting: the loop calls again when it is. */
	backend_want_input(c->backend, true);
}

void console_client_input(struct console *c)
{
	console_rx(c);
}

void console_client_connected(struct console *c)
{

	if (c->out.dropped) {
		c->out.dropped_total += c->out.dropped;
		log_info("%llu bytes of older guest output were dropped while "
			 "no client was connected",
			 (unsigned long long)c->out.dropped);
		c->out.dropped = 0;
	}
	if (c->out.len)
		backend_want_output(c->backend, true);
	console_rx(c);
}

/* --- the device ------------------------------------------------------ */

void console_queue_kick(struct console *c, struct virtqueue *vq)
{

	switch (vq->index) {
	case CONSOLE_QUEUE_RX:
		console_rx(c);
		break;
	case CONSOLE_QUEUE_TX:
		console_tx(c, vq);
		break;
	case CONSOLE_QUEUE_CTRL_RX:
		ctrl_flush(c);
		break;
	case CONSOLE_QUEUE_CTRL_TX:
		ctrl_tx(c, vq);
		break;
	default:
		break;
	}
}

/** console_reset() - the driver is gone or resetting: forget the port */
void console_reset(struct console *c)
{

	c->device_ready = false;
	c->port_ready = false;
	c->guest_open = false;
	c->ctrl_head = 0;
	c->ctrl_count = 0;
	if (c->backend && backend_connected(c->backend))
		backend_want_input(c->backend, false);
}

void console_get_config(struct console *c, uint32_t offset, uint8_t *buf,
			uint32_t len)
{
	struct virtio_console_config cfg = {
		.cols = c->cols,
		.rows = c->rows,
		.max_nr_ports = 1,
		.emerg_wr = 0,
	};

	memcpy(buf, (const uint8_t *)&cfg + offset, len);
}

/*
 * emergency_write() - a byte the driver wrote to emerg_wr: guest output
 * like any other, through the same buffer to the same client
 */
static void emergency_write(struct console *c, uint8_t byte)
{
	/* Two free slots in front, as deliver_output() wants. */
	struct iovec v[3] = {[2] = {.iov_base = &byte, .iov_len = 1}};

	log_trace("emergency write of byte %#x", byte);
	deliver_output(c, &v[2], 1);
}

/*
 * Only emerg_wr is writable (VIRTIO_CONSOLE_F_EMERG_WRITE is offered, so a
 * driver may use it at any time, before the device is ready too); the rest
 * of the config space is the device's to say. A frontend writes either
 * emerg_wr alone (UML), or the whole space as it read it with the driver's
 * write in place (QEMU's vhost-user-base): then the read-only fields must
 * be what they are.
 */
int console_set_config(struct console *c, uint32_t offset, const uint8_t *buf,
		       uint32_t len)
{
	const uint32_t at = offsetof(struct virtio_console_config, emerg_wr);
	uint8_t now[sizeof(struct virtio_console_config)];

	if (offset == at && len == sizeof(uint32_t)) {
		emergency_write(c, buf[0]);
		return 0;
	}
	if (offset == 0 && len == sizeof(now)) {
		console_get_config(c, 0, now, at);
		if (memcmp(buf, now, at) == 0) {
			emergency_write(c, buf[at]);
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
	for (unsigned int i = 0; i < c->ctrl_count; i++) {
		struct console_ctrl_msg *m =
			&c->ctrl[(c->ctrl_head + i) % CONSOLE_CTRL_PENDING_MAX];

		if (m->hdr.event == VIRTIO_CONSOLE_RESIZE) {
			memcpy(m->extra, size, sizeof(size));
			return;
		}
	}
	ctrl_send(c, VIRTIO_CONSOLE_RESIZE, 0, size, sizeof(size));
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
		if (c->port_ready)
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
	c->guest_open = true;
	announce_size(c);
}

int console_init(struct console *c, unsigned int index, size_t out_buffer,
		 uint32_t max_queue_size)
{
	memset(c, 0, sizeof(*c));
	c->index = index;
	snprintf(c->port_name, sizeof(c->port_name), "vhost-device-console.%u",
		 index);
	/* Unused with MULTIPORT (Linux reads them only without it). */
	c->cols = CONSOLE_DEFAULT_COLS;
	c->rows = CONSOLE_DEFAULT_ROWS;
	c->iov_cap = 2 + IOV_BATCH + max_queue_size;
	c->heads_cap = max_queue_size;
	c->iov = calloc(c->iov_cap, sizeof(*c->iov));
	c->heads = calloc(c->heads_cap, sizeof(*c->heads));
	c->lens = calloc(c->heads_cap, sizeof(*c->lens));
	if (!c->iov || !c->heads || !c->lens ||
	    outbuf_init(&c->out, out_buffer) < 0) {
		console_fini(c);
		return -1;
	}
	return 0;
}

void console_fini(struct console *c)
{
	free(c->iov);
	free(c->heads);
	free(c->lens);
	outbuf_fini(&c->out);
	c->iov = NULL;
	c->heads = NULL;
	c->lens = NULL;
}

void console_attach(struct console *c, struct vu_dev *vu,
		    struct backend *backend)
{
	c->vu = vu;
	c->backend = backend;
}
