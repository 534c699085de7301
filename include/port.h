/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * port.h - one port of the virtio-console device: its two virtqueues, its
 * data path and its host side.
 *
 * Port 0 is the console (hvc0 in a Linux guest): its output is taken from
 * the guest at once and buffered, bounded, for the client. Every other port
 * is a named data port (/dev/virtio-ports/NAME): lossless both ways, so its
 * output is taken only as fast as its client reads it.
 */
#ifndef VDC_PORT_H
#define VDC_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend.h"
#include "console_log.h"
#include "control.h"
#include "guest_stats.h"
#include "outbuf.h"
#include "vhost_user.h"

/* Queue numbers with MULTIPORT: port 0 has 0 and 1, control 2 and 3, then
 * port n has 2n + 2 and 2n + 3. */
static inline unsigned int port_rx_queue(unsigned int id)
{
	return id == 0 ? CONSOLE_QUEUE_RX : 2 * id + 2;
}

static inline unsigned int port_tx_queue(unsigned int id)
{
	return port_rx_queue(id) + 1;
}

/* What a port asks of the device around it. */
struct port_owner {
	void *opaque;
	void (*quit)(void *opaque); /* the user asked to quit (nested) */
};

/* How to make a port. */
struct port_config {
	unsigned int id;
	const char *name;
	enum backend_kind kind; /* port 0: the daemon's backend; others uds */
	int listen_fd; /* -1 for nested */
	unsigned int index; /* the guest's socket index */
	size_t out_buffer; /* port 0's output buffer */
	unsigned int max_clients; /* port 0's; a data port has one */
	uint32_t max_queue_size;
	struct ev_loop *loop;
	struct vu_dev *vu;
	struct control *ctl;
	const struct port_owner *owner;
	struct guest_stats_writer *stats; /* the guest's counters, or NULL */
	const struct peer_policy *policy; /* who may connect to its socket */
};

struct port {
	unsigned int id;
	char name[PORT_NAME_MAX + 1];
	bool is_console;
	struct vu_dev *vu;
	struct control *ctl;
	const struct port_owner *owner;
	struct guest_stats_writer *stats;
	struct backend host; /* the host side: a terminal or a listener */
	struct backend_events host_ev;

	/* Inside a port operation (its scratch arrays in use): input a
	 * leaving client left waits until the outermost one ends. */
	unsigned int depth;
	bool rx_later;

	/* What the guest driver has told us. */
	bool ready; /* PORT_READY: the port exists in the guest */
	bool guest_open;

	/* Console: guest output some client has not taken yet (bounded),
	 * and the log file it all goes to, if any. */
	struct outbuf out;
	struct console_log *log;
	int idle_fd; /* a timer: the buffer's memory goes back when idle */
	struct ev_watch idle_watch;
	bool idle_armed;
	uint64_t dropped_reported_ms;

	/* Scratch for a batch of chains. */
	struct iovec *iov;
	unsigned int iov_cap;
	uint16_t *heads;
	uint32_t *lens;
	unsigned int heads_cap;

	/* A data port's output batch, kept until the client has all of it. */
	struct iovec *tx_v;
	uint16_t *tx_heads;
	uint32_t *tx_lens;
	unsigned int tx_chains; /* chains in the batch, 0 when none */
	unsigned int tx_first; /* first chain not yet fully written */
	uint32_t tx_left; /* bytes of that chain still to write */
	unsigned int tx_iov, tx_niov; /* the iovecs still to write */
};

int port_init(struct port *p, const struct port_config *cfg);
void port_fini(struct port *p);
void port_queue_kick(struct port *p, unsigned int queue);
void port_reset(struct port *p);
void port_release_batch(struct port *p);
void port_set_ready(struct port *p);
void port_set_guest_open(struct port *p, bool open);
bool port_host_open(struct port *p);
void port_emergency_write(struct port *p, uint8_t byte);

#endif
