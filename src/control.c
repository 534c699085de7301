/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * control.c - messages from the device to the guest driver.
 *
 * The driver reads control messages from buffers it posts on the
 * control-receive queue; until it has posted one, a message waits here, in
 * order. Every message the device sends is the latest word on one state
 * of one port (it was added, it is the console, its name, whether the host
 * side is open, the console's size), so at most one per port and event
 * waits: a newer one gives the waiting one its value and payload, in
 * place. A driver slow to post buffers therefore always learns the last
 * state, and the queue is bounded by ports times events; a driver that
 * never posts buffers cannot make the daemon grow.
 */
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "iov.h"
#include "log.h"

int control_init(struct control *ctl, uint32_t max_queue_size)
{
	memset(ctl, 0, sizeof(*ctl));
	ctl->iov_cap = max_queue_size;
	ctl->iov = calloc(ctl->iov_cap, sizeof(*ctl->iov));
	return ctl->iov ? 0 : -1;
}

void control_fini(struct control *ctl)
{
	free(ctl->iov);
	ctl->iov = NULL;
}

void control_attach(struct control *ctl, struct vu_dev *vu)
{
	ctl->vu = vu;
}

/* Put one message into a buffer the driver posted. */
static void deliver(struct virtqueue *vq, const struct vq_chain *ch,
		    const struct control_msg *m)
{
	uint8_t tmp[sizeof(m->hdr) + sizeof(m->extra)];
	uint32_t need = sizeof(m->hdr) + m->extra_len;

	if (ch->in_len < sizeof(m->hdr)) {
		/* Linux would read stale bytes from a short entry: the
		 * buffer goes back empty and the event is lost. */
		log_error("control buffer of %u bytes cannot hold event %u; event dropped", ch->in_len, m->hdr.event);
		vq_push(vq, ch->head, 0);
		return;
	}
	if (ch->in_len < need) {
		log_warn("control buffer of %u bytes: event %u's payload cut to fit", ch->in_len, m->hdr.event);
		need = ch->in_len;
	}
	/* The header, then its payload, in one buffer. */
	memcpy(tmp, &m->hdr, sizeof(m->hdr));
	memcpy(tmp + sizeof(m->hdr), m->extra, m->extra_len);
	iov_from_buf(ch->iov + ch->n_out, ch->n_in, tmp, need);
	vq_push(vq, ch->head, need);
}

/** control_flush() - send what waits while the driver has buffers */
void control_flush(struct control *ctl)
{
	struct virtqueue *vq;
	bool pushed = false;
	struct vq_chain ch;

	if (!ctl->vu)
		return;
	vq = &ctl->vu->vqs[CONSOLE_QUEUE_CTRL_RX];
	while (ctl->count &&
	       vq_pop(vq, ctl->iov, ctl->iov_cap, &ch) == VQ_POP_OK) {
		deliver(vq, &ch, &ctl->msg[ctl->head]);
		pushed = true;
		ctl->head = (ctl->head + 1) % CONTROL_PENDING_MAX;
		ctl->count--;
	}
	if (pushed) {
		vq_flush(vq);
		vq_notify(vq);
	}
}

/* The message for @port and @event that waits for a buffer, if any. */
static struct control_msg *waiting(struct control *ctl, uint32_t port,
				   uint16_t event)
{
	for (unsigned int i = 0; i < ctl->count; i++) {
		struct control_msg *m =
			&ctl->msg[(ctl->head + i) % CONTROL_PENDING_MAX];

		if (m->hdr.id == port && m->hdr.event == event)
			return m;
	}
	return NULL;
}

/**
 * control_send() - tell the driver @event for @port, now if it has a
 * buffer, else as soon as it posts one
 * @value:	the header's value (PORT_OPEN: open or not)
 * @extra:	payload after the header (@extra_len <= CONTROL_EXTRA_MAX)
 *
 * A message for the same port and event still waiting is replaced in
 * place: only the newest state reaches the driver.
 */
void control_send(struct control *ctl, uint32_t port, uint16_t event,
		  uint16_t value, const void *extra, uint32_t extra_len)
{
	struct control_msg *m = waiting(ctl, port, event);

	if (!m && ctl->count == CONTROL_PENDING_MAX) {
		log_error("control event %u for port %u dropped: %d events wait for the guest to post control buffers", event, port, CONTROL_PENDING_MAX);
		return;
	}
	if (!m) {
		m = &ctl->msg[(ctl->head + ctl->count) % CONTROL_PENDING_MAX];
		ctl->count++;
	}
	if (extra_len > CONTROL_EXTRA_MAX)
		extra_len = CONTROL_EXTRA_MAX;
	m->hdr.id = port;
	m->hdr.event = event;
	m->hdr.value = value;
	m->extra_len = extra_len;
	if (extra_len)
		memcpy(m->extra, extra, extra_len);
	control_flush(ctl);
}

/** control_reset() - the driver is gone: nothing waits for it any more */
void control_reset(struct control *ctl)
{
	ctl->head = 0;
	ctl->count = 0;
}
