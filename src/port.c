/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * port.c - one port's data path between the guest's rings and its host
 * side.
 *
 * Output (tx) is written straight from guest memory to the client, one
 * writev() per batch of chains. The console port never makes the guest
 * wait: Linux's hvc writer spins its vCPU until a buffer comes back, so
 * what the client cannot take now is copied into a bounded buffer and the
 * chains complete at once. A data port's writer in the guest sleeps
 * instead, and its data must not be lost, so a data port keeps its batch
 * in the ring (popped, not yet returned) until the client has taken all of
 * it, and takes no more while there is no client.
 *
 * Input (rx) is read straight into the guest's buffers, only while the
 * guest has the port open and has buffers posted; otherwise the client is
 * not read at all, so nothing typed is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "event_loop.h"
#include "iov.h"
#include "log.h"
#include "port.h"

#define IOV_BATCH	   1024 /* iovecs per writev()/readv() batch */
#define RX_BATCH_BYTES	   (256u << 10) /* guest buffer space per readv() */
#define DATA_TX_BATCH_BYTES (256u << 10) /* a data port's batch */
#define RX_ROUNDS	   16 /* batches before yielding to the loop */
#define TX_ROUNDS	   16
#define DROP_REPORT_MS	   1000
#define ACK_FIRST_MAX	   (16u << 10) /* see copy_batch() */

/*
 * guest_memory_fault() - the kernel could not reach guest memory (EFAULT)
 *
 * The frontend shrank or unmapped what it shared: its session ends, as on
 * SIGBUS. The client did nothing wrong and stays, and so does the input it
 * has not sent yet.
 */
static void guest_memory_fault(struct port *p, const char *what)
{
	log_error("%s guest memory failed (Bad address): the frontend's memory is broken; its session ends, the console client and its unread input stay", what);
	vu_note_memory_fault(p->vu);
}

/* The client's place in the backend: its slot in the guest's stats. */
static unsigned int client_slot(const struct port *p, const struct client *c)
{
	return (unsigned int)(c - p->host.clients);
}

/* A data port's one client, if it takes output. */
static struct client *data_client(struct port *p)
{
	struct client *c = backend_next_client(&p->host, NULL);

	return c && c->out_fd >= 0 ? c : NULL;
}

/** port_host_open() - does the host side have a client now? */
bool port_host_open(struct port *p)
{
	return data_client(p) != NULL;
}

/* --- the console's output: taken at once, buffered, bounded ---------- */

/* The position the slowest client has reached; UINT64_MAX with none. */
static uint64_t slowest(struct port *p)
{
	uint64_t min = UINT64_MAX;

	for (struct client *c = backend_next_client(&p->host, NULL); c;
	     c = backend_next_client(&p->host, c))
		if (c->out_fd >= 0 && c->pos < min)
			min = c->pos;
	return min;
}

#define IDLE_RELEASE_MS 500 /* empty this long: the pages go back */

/* Forget what every client has; with none, keep all (the next gets it). */
static void trim(struct port *p)
{
	uint64_t min = slowest(p);
	struct itimerspec its = {.it_value.tv_nsec = IDLE_RELEASE_MS * 1000000L};

	if (min != UINT64_MAX)
		outbuf_consume_to(&p->out, min);
	/* Not at once: a busy console empties its buffer all the time. */
	if (p->out.len == 0 && outbuf_holds_memory(&p->out) &&
	    !p->idle_armed && p->idle_fd >= 0 &&
	    timerfd_settime(p->idle_fd, 0, &its, NULL) == 0)
		p->idle_armed = true;
}

static void console_writable(struct port *p, struct client *c);
static void enter(struct port *p);
static void leave(struct port *p);

static void on_idle(void *arg, uint32_t events)
{
	struct port *p = arg;
	uint64_t n;

	(void)events;
	if (read(p->idle_fd, &n, sizeof(n)) < 0)
		return;
	p->idle_armed = false;
	outbuf_release(&p->out);
}

/*
 * fell_behind() - the buffer dropped bytes a client had not taken yet: it
 * goes on from the oldest byte kept. A watcher is told in its stream,
 * where the gap is, as soon as it takes output again; the writer's losses
 * are logged, at most once a second.
 */
static void fell_behind(struct port *p, struct client *c)
{
	uint64_t now;

	if (c->pos < p->out.base) {
		guest_stats_client_dropped(p->stats, client_slot(p, c),
					   p->out.base - c->pos);
		c->lost += p->out.base - c->pos;
		c->pos = p->out.base;
	}
	if (!c->lost)
		return;
	if (!c->writer) {
		backend_want_output(c, true);
		return;
	}
	now = ev_now_ms();
	if (now - p->dropped_reported_ms < DROP_REPORT_MS)
		return;
	p->out.dropped_total += c->lost;
	log_warn("console client is slow: dropped the oldest %llu bytes of guest output (%llu in all; --output-buffer is %zu bytes)",
		 (unsigned long long)c->lost,
		 (unsigned long long)p->out.dropped_total, p->out.cap);
	c->lost = 0;
	p->dropped_reported_ms = now;
}

/* Tell a watcher where its gap is; false while it cannot take the note. */
static bool tell_gap(struct client *c)
{
	char line[160];

	if (c->writer || !c->lost)
		return true;
	snprintf(line, sizeof(line), "\r\n[vhost-device-console: %llu bytes of output dropped here: this watcher fell behind]\r\n", (unsigned long long)c->lost);
	if (!backend_notice(c, line))
		return false;
	c->lost = 0;
	return true;
}

/*
 * deliver_output() - a batch of console output, to every client
 * @iov:	the batch; the two slots before iov[0] are free scratch
 *
 * Each client gets, in one writev(), what it has not taken yet of the
 * buffer and then the batch straight from guest memory. The buffer keeps
 * only what some client has not taken (all of it while nobody is
 * connected), so while clients keep up nothing is copied at all.
 */
static void deliver_output(struct port *p, struct iovec *iov, unsigned int n)
{
	uint64_t end0 = outbuf_end(&p->out);
	size_t total = 0, min_taken = SIZE_MAX;

	for (unsigned int i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* The log gets everything, client or not (a copy, never a wait). */
	if (p->log)
		console_log_append(p->log, iov, n, 0);
	for (struct client *c = backend_next_client(&p->host, NULL); c;
	     c = backend_next_client(&p->host, c)) {
		size_t taken = 0;

		if (c->out_fd < 0)
			continue;
		/* A watcher owed a note about a gap gets it first, later. */
		if (!c->lost) {
			struct iovec old[2];
			unsigned int k = outbuf_peek_at(&p->out, c->pos, old);
			size_t held = end0 - c->pos;
			ssize_t w;

			memcpy(iov - k, old, k * sizeof(*old));
			w = backend_write(c, iov - k, n + k);
			if (w == BACKEND_IO_FAULT) {
				/* Nothing of the batch can be read. */
				guest_memory_fault(p, "writing console output from");
				return;
			}
			if (w < 0)
				continue; /* gone */
			c->pos += (size_t)w;
			taken = (size_t)w > held ? (size_t)w - held : 0;
		}
		if (taken < min_taken)
			min_taken = taken;
		if (c->pos < end0 + total)
			backend_want_output(c, true);
	}
	if (min_taken == SIZE_MAX)
		min_taken = 0;
	/* Everybody took all before the batch and some of it. */
	if (min_taken) {
		outbuf_consume_to(&p->out, end0);
		outbuf_skip(&p->out, min_taken);
	}
	outbuf_append(&p->out, iov, n, min_taken);
	if (!backend_connected(&p->host))
		return; /* drops are told to the next client */
	p->out.dropped = 0;
	for (struct client *c = backend_next_client(&p->host, NULL); c;
	     c = backend_next_client(&p->host, c))
		if (c->out_fd >= 0)
			fell_behind(p, c);
	trim(p);
}

/*
 * copy_batch() - a small batch: copied into the buffer, so that its
 * chains can go back to the guest before any client is written to
 *
 * Linux's console writer spins its vCPU on every chunk (2 KiB) until the
 * buffer comes back; writing to a client first wakes the client, which
 * may take the CPU the guest waits on. A copy of a few KiB costs less.
 * The caller hands the chains back, then calls flush_clients().
 */
static void copy_batch(struct port *p, const struct iovec *iov,
		       unsigned int n)
{
	uint8_t copy[ACK_FIRST_MAX];
	struct iovec v = {.iov_base = copy};

	/* Out of guest memory first: a page that faults (the frontend
	 * shrank its memory) must not reach anyone as zeros. */
	if (!guest_mem_copy_out(iov, n, copy, sizeof(copy), &v.iov_len)) {
		guest_memory_fault(p, "reading console output from");
		return;
	}
	if (p->log)
		console_log_append(p->log, &v, 1, 0);
	outbuf_append(&p->out, &v, 1, 0);
	if (backend_connected(&p->host))
		p->out.dropped = 0; /* told per client */
}

/* Write what each client has not taken of the buffer. */
static void flush_clients(struct port *p)
{
	for (struct client *c = backend_next_client(&p->host, NULL); c;
	     c = backend_next_client(&p->host, c))
		if (c->out_fd >= 0)
			console_writable(p, c);
	trim(p);
}

static void console_tx(struct port *p, struct virtqueue *vq)
{
	for (unsigned int round = 0;; round++) {
		unsigned int n_iov = 0, n_chains = 0;
		enum vq_pop_result r = VQ_POP_OK;
		struct vq_chain ch;
		size_t bytes;
		bool small;

		/* A guest that never stops writing must not starve input. */
		if (round >= TX_ROUNDS && vq_kick_self(vq))
			return;
		/* Two slots in front of the batch for deliver_output(). */
		while (n_iov < IOV_BATCH && n_chains < p->heads_cap) {
			r = vq_pop(vq, p->iov + 2 + n_iov,
				   p->iov_cap - 2 - n_iov, &ch);
			if (r != VQ_POP_OK)
				break;
			p->heads[n_chains++] = ch.head;
			n_iov += ch.n_out; /* a writable part is ignored */
		}
		if (n_chains == 0)
			return;
		bytes = 0;
		for (unsigned int i = 0; i < n_iov; i++)
			bytes += p->iov[2 + i].iov_len;
		small = bytes <= ACK_FIRST_MAX;
		GUEST_STATS_COUNT(p->stats, bytes_out, bytes);
		if (small)
			copy_batch(p, p->iov + 2, n_iov);
		else
			deliver_output(p, p->iov + 2, n_iov);
		for (unsigned int i = 0; i < n_chains; i++)
			vq_push(vq, p->heads[i], 0);
		vq_flush(vq);
		vq_notify(vq);
		if (small)
			flush_clients(p);
		if (r != VQ_POP_OK)
			return;
	}
}

/** port_emergency_write() - a byte the driver wrote to emerg_wr */
void port_emergency_write(struct port *p, uint8_t byte)
{
	/* Two free slots in front, as deliver_output() wants. */
	struct iovec v[3] = {[2] = {.iov_base = &byte, .iov_len = 1}};

	log_trace("emergency write of byte %#x", byte);
	GUEST_STATS_COUNT(p->stats, bytes_out, 1);
	enter(p);
	deliver_output(p, &v[2], 1);
	leave(p);
}

/* A console client takes output again: its share of the buffer. */
static void console_writable(struct port *p, struct client *c)
{
	struct iovec iov[2];
	unsigned int n;
	ssize_t w;

	fell_behind(p, c);
	if (!tell_gap(c)) {
		backend_want_output(c, true);
		return;
	}
	n = outbuf_peek_at(&p->out, c->pos, iov);
	if (n) {
		w = backend_write(c, iov, n);
		if (w < 0) {
			trim(p);
			return;
		}
		c->pos += (size_t)w;
	}
	backend_want_output(c, c->pos < outbuf_end(&p->out) || c->lost);
	trim(p);
}

/* --- a data port's output: lossless, at the client's pace ------------ */

/* Return the chains the client has taken all of, oldest first. */
static void complete_written(struct port *p, struct virtqueue *vq,
			     size_t written)
{
	bool pushed = false;

	while (p->tx_first < p->tx_chains) {
		uint32_t take = written < p->tx_left ? (uint32_t)written
						     : p->tx_left;

		p->tx_left -= take;
		written -= take;
		if (p->tx_left)
			break;
		vq_push(vq, p->tx_heads[p->tx_first++], 0);
		pushed = true;
		if (p->tx_first < p->tx_chains)
			p->tx_left = p->tx_lens[p->tx_first];
	}
	if (pushed) {
		vq_flush(vq);
		vq_notify(vq);
	}
	if (p->tx_first == p->tx_chains)
		p->tx_chains = 0;
}

/* Pop a batch to write; false when there is none. */
static bool pop_data_batch(struct port *p, struct virtqueue *vq)
{
	unsigned int n_iov = 0, n_chains = 0;
	size_t bytes = 0;
	struct vq_chain ch;

	while (n_iov < IOV_BATCH && n_chains < p->heads_cap &&
	       bytes < DATA_TX_BATCH_BYTES &&
	       vq_pop(vq, p->tx_v + n_iov, p->iov_cap - n_iov, &ch) ==
		       VQ_POP_OK) {
		p->tx_heads[n_chains] = ch.head;
		p->tx_lens[n_chains++] = ch.out_len;
		n_iov += ch.n_out; /* a writable part is ignored */
		bytes += ch.out_len;
	}
	if (n_chains == 0)
		return false;
	p->tx_chains = n_chains;
	p->tx_first = 0;
	p->tx_left = p->tx_lens[0];
	p->tx_iov = 0;
	p->tx_niov = n_iov;
	/* Chains with nothing to say complete at once. */
	complete_written(p, vq, 0);
	return true;
}

/* Skip @n written bytes of the batch's iovecs. */
static void advance_iov(struct port *p, size_t n)
{
	while (n && p->tx_iov < p->tx_niov) {
		struct iovec *v = &p->tx_v[p->tx_iov];

		if (n < v->iov_len) {
			v->iov_base = (uint8_t *)v->iov_base + n;
			v->iov_len -= n;
			return;
		}
		n -= v->iov_len;
		p->tx_iov++;
	}
}

/*
 * data_tx() - write a data port's output while the client takes it
 *
 * Return: with the batch written and more maybe waiting, or with the rest
 * held until the client is writable (or a client comes).
 */
static void data_tx(struct port *p, struct virtqueue *vq)
{
	for (unsigned int round = 0; round < TX_ROUNDS; round++) {
		struct client *c = data_client(p);
		ssize_t w;

		if (!c)
			return;
		if (!p->tx_chains && !pop_data_batch(p, vq))
			return;
		if (!p->tx_chains)
			continue;
		w = backend_write(c, p->tx_v + p->tx_iov,
				  p->tx_niov - p->tx_iov);
		if (w == BACKEND_IO_FAULT) {
			guest_memory_fault(p, "writing port output from");
			return;
		}
		if (w < 0)
			return; /* the client left; the next one gets the rest */
		GUEST_STATS_COUNT(p->stats, bytes_out, (uint64_t)w);
		advance_iov(p, (size_t)w);
		complete_written(p, vq, (size_t)w);
		if (p->tx_chains) {
			backend_want_output(c, true);
			return;
		}
	}
	/* More may wait: come back through the loop. */
	vq_kick_self(vq);
}

/* --- input ----------------------------------------------------------- */

/* Return the first @used chains with what they got, the rest untouched. */
static void complete_rx(struct port *p, struct virtqueue *vq,
			unsigned int n_chains, size_t got)
{
	unsigned int used = 0;

	for (; used < n_chains && got; used++) {
		uint32_t len =
			got < p->lens[used] ? (uint32_t)got : p->lens[used];

		vq_push(vq, p->heads[used], len);
		got -= len;
	}
	vq_unpop(vq, n_chains - used);
	if (used) {
		vq_flush(vq);
		vq_notify(vq);
	}
}

/* Input may come from a client, or wait from one that has gone. */
static bool input_possible(struct port *p, struct virtqueue *vq)
{
	return backend_has_input(&p->host) && p->guest_open && vq_ready(vq);
}

static void port_rx(struct port *p)
{
	struct virtqueue *vq = &p->vu->vqs[port_rx_queue(p->id)];

	for (unsigned int round = 0; round < RX_ROUNDS; round++) {
		unsigned int n_iov = 0, n_chains = 0;
		size_t room = 0;
		struct vq_chain ch;
		ssize_t n;

		if (!input_possible(p, vq)) {
			if (backend_connected(&p->host))
				backend_want_input(&p->host, false);
			return;
		}
		while (n_iov < IOV_BATCH && n_chains < p->heads_cap &&
		       room < RX_BATCH_BYTES &&
		       vq_pop(vq, p->iov + n_iov, p->iov_cap - n_iov, &ch) ==
			       VQ_POP_OK) {
			/* Only the writable part takes input. */
			if (ch.n_out)
				memmove(p->iov + n_iov,
					p->iov + n_iov + ch.n_out,
					ch.n_in * sizeof(*p->iov));
			p->heads[n_chains] = ch.head;
			p->lens[n_chains++] = ch.in_len;
			n_iov += ch.n_in;
			room += ch.in_len;
		}
		if (n_chains == 0) {
			/* No buffers: leave the input in the client's socket. */
			backend_want_input(&p->host, false);
			if (vq_enable_notify(vq))
				continue;
			return;
		}
		if (room == 0) { /* only empty buffers: give them back */
			for (unsigned int i = 0; i < n_chains; i++)
				vq_push(vq, p->heads[i], 0);
			vq_flush(vq);
			vq_notify(vq);
			continue;
		}
		n = backend_read(&p->host, p->iov, n_iov);
		if (n == BACKEND_IO_FAULT) {
			vq_unpop(vq, n_chains);
			guest_memory_fault(p, "reading console input into");
			return;
		}
		if (n <= 0) {
			vq_unpop(vq, n_chains);
			if (n == 0 && backend_connected(&p->host) &&
			    backend_has_input(&p->host))
				backend_want_input(&p->host, true);
			return;
		}
		GUEST_STATS_COUNT(p->stats, bytes_in, (uint64_t)n);
		complete_rx(p, vq, n_chains, (size_t)n);
		if ((size_t)n < room) {
			backend_want_input(&p->host, true);
			return;
		}
	}
	/* More may be waiting: the loop calls again when it is. */
	backend_want_input(&p->host, true);
}

/* --- the host side's events ------------------------------------------ */

/*
 * A client can leave in the middle of a port operation (a write to it
 * fails while a batch is delivered): its left input is read into the
 * guest only when the operation that owns the scratch arrays has ended.
 */
static void enter(struct port *p)
{
	p->depth++;
}

static void leave(struct port *p)
{
	if (--p->depth)
		return;
	while (p->rx_later) {
		p->rx_later = false;
		p->depth++;
		port_rx(p);
		p->depth--;
	}
}

static void tell_host_open(struct port *p, bool open)
{
	if (p->is_console || !p->ready)
		return;
	control_send(p->ctl, p->id, VIRTIO_CONSOLE_PORT_OPEN, open, NULL, 0);
}

static void run_tx(struct port *p)
{
	struct virtqueue *vq = &p->vu->vqs[port_tx_queue(p->id)];

	if (p->is_console)
		console_tx(p, vq);
	else if (vq_ready(vq))
		data_tx(p, vq);
}

/* How a console client came, as status tells it. */
static enum guest_client_kind client_kind(const struct port *p,
					  const struct client *c)
{
	if (c->codec)
		return GUEST_CLIENT_WEB;
	if (!p->host.owns_client_fds)
		return GUEST_CLIENT_TERMINAL;
	return p->host.tcp ? GUEST_CLIENT_TCP : GUEST_CLIENT_UNIX;
}

static void on_connected(void *opaque, struct client *c)
{
	struct port *p = opaque;

	if (!p->is_console) {
		log_info("port %u (%s): host client connected", p->id, p->name);
		tell_host_open(p, true);
		enter(p);
		run_tx(p);
		port_rx(p);
		leave(p);
		return;
	}
	/* What is kept: output nobody has had, or the others' backlog. */
	c->pos = p->out.base;
	guest_stats_client_in(p->stats, client_slot(p, c), client_kind(p, c),
			      c->in_fd >= 0 ? c->in_fd : c->out_fd, c->writer);
	if (p->host.nclients == 1 && p->out.dropped) {
		GUEST_STATS_COUNT(p->stats, dropped_unattended_bytes,
				  p->out.dropped);
		p->out.dropped_total += p->out.dropped;
		log_info("%llu bytes of older guest output were dropped while no client was connected", (unsigned long long)p->out.dropped);
		p->out.dropped = 0;
	}
	if (c->pos < outbuf_end(&p->out))
		backend_want_output(c, true);
	enter(p);
	port_rx(p);
	leave(p);
}

static void on_disconnected(void *opaque, struct client *c)
{
	struct port *p = opaque;

	if (p->is_console) {
		guest_stats_client_out(p->stats, client_slot(p, c));
		if (p->host.writer) /* a watcher may have been promoted */
			guest_stats_client_writer(p->stats,
						  client_slot(p, p->host.writer));
		trim(p);
	} else {
		log_info("port %u (%s): host client left", p->id, p->name);
		tell_host_open(p, false);
	}
	/* What it typed and left behind may go to the guest now. */
	if (p->depth) {
		p->rx_later = true;
		return;
	}
	enter(p);
	port_rx(p);
	leave(p);
}

static void on_input(void *opaque)
{
	struct port *p = opaque;

	enter(p);
	port_rx(p);
	leave(p);
}

static void on_writable(void *opaque, struct client *c)
{
	struct port *p = opaque;

	enter(p);
	if (p->is_console) {
		console_writable(p, c);
	} else {
		backend_want_output(c, false);
		run_tx(p);
	}
	leave(p);
}

static void on_quit(void *opaque)
{
	struct port *p = opaque;

	if (p->owner && p->owner->quit)
		p->owner->quit(p->owner->opaque);
}

/* --- the device's calls ---------------------------------------------- */

/** port_queue_kick() - the guest kicked one of this port's queues */
void port_queue_kick(struct port *p, unsigned int queue)
{
	enter(p);
	if (queue == port_rx_queue(p->id))
		port_rx(p);
	else
		run_tx(p);
	leave(p);
}

/** port_set_ready() - the guest has set the port up (PORT_READY) */
void port_set_ready(struct port *p)
{
	p->ready = true;
	if (p->is_console) {
		control_send(p->ctl, p->id, VIRTIO_CONSOLE_CONSOLE_PORT, 1,
			     NULL, 0);
		control_send(p->ctl, p->id, VIRTIO_CONSOLE_PORT_NAME, 0,
			     p->name, (uint32_t)strlen(p->name));
		/* hvc0 is always open on our side: output never waits. */
		control_send(p->ctl, p->id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL,
			     0);
		return;
	}
	control_send(p->ctl, p->id, VIRTIO_CONSOLE_PORT_NAME, 0, p->name,
		     (uint32_t)strlen(p->name));
	tell_host_open(p, port_host_open(p));
}

/** port_set_guest_open() - a program in the guest opened or closed it */
void port_set_guest_open(struct port *p, bool open)
{
	p->guest_open = open;
	if (p->is_console)
		guest_stats_console_open(p->stats, open);
	if (p->is_console)
		log_info("guest %s the console", open ? "opened" : "closed");
	else
		log_info("guest %s port %u (%s)", open ? "opened" : "closed",
			 p->id, p->name);
	enter(p);
	if (open)
		port_rx(p);
	else if (backend_connected(&p->host))
		backend_want_input(&p->host, false);
	leave(p);
}

/**
 * port_release_batch() - a data port's held output batch goes back to the
 * ring (guest memory is about to change, or the queue to stop): chains
 * not written at all are un-popped, to be popped again later; a chain
 * written in part is completed, the rest of it lost
 */
void port_release_batch(struct port *p)
{
	struct virtqueue *vq;

	if (p->is_console || !p->tx_chains)
		return;
	vq = &p->vu->vqs[port_tx_queue(p->id)];
	if (p->tx_left != p->tx_lens[p->tx_first]) {
		log_warn("port %u (%s): memory changed under a half-written chain; %u bytes of it dropped", p->id, p->name, p->tx_left);
		vq_push(vq, p->tx_heads[p->tx_first++], 0);
		vq_flush(vq);
		vq_notify(vq);
	}
	vq_unpop(vq, p->tx_chains - p->tx_first);
	p->tx_chains = 0;
}

/** port_reset() - the driver is gone or resetting: forget its state */
void port_reset(struct port *p)
{
	p->ready = false;
	p->guest_open = false;
	if (p->is_console)
		guest_stats_console_open(p->stats, false);
	/* The rings are gone; so is the batch that was in them. */
	p->tx_chains = 0;
	if (backend_connected(&p->host)) {
		struct client *c = data_client(p);

		backend_want_input(&p->host, false);
		if (!p->is_console && c)
			backend_want_output(c, false);
	}
}

/**
 * port_init() - a port with its host side listening (or on the terminal)
 *
 * Return: 0, or -1 (logged)
 */
int port_init(struct port *p, const struct port_config *cfg)
{
	char door[PORT_NAME_MAX + 1 + 32];

	memset(p, 0, sizeof(*p));
	p->id = cfg->id;
	snprintf(p->name, sizeof(p->name), "%s", cfg->name);
	p->is_console = cfg->id == 0;
	p->vu = cfg->vu;
	p->ctl = cfg->ctl;
	p->owner = cfg->owner;
	p->stats = cfg->stats;
	p->iov_cap = 2 + IOV_BATCH + cfg->max_queue_size;
	p->heads_cap = cfg->max_queue_size;
	p->iov = calloc(p->iov_cap, sizeof(*p->iov));
	p->heads = calloc(p->heads_cap, sizeof(*p->heads));
	p->lens = calloc(p->heads_cap, sizeof(*p->lens));
	if (!p->is_console) {
		p->tx_v = calloc(p->iov_cap, sizeof(*p->tx_v));
		p->tx_heads = calloc(p->heads_cap, sizeof(*p->tx_heads));
		p->tx_lens = calloc(p->heads_cap, sizeof(*p->tx_lens));
	}
	if (!p->iov || !p->heads || !p->lens ||
	    (!p->is_console && (!p->tx_v || !p->tx_heads || !p->tx_lens)) ||
	    (p->is_console && outbuf_init(&p->out, cfg->out_buffer) < 0)) {
		log_error("out of memory for port %u", p->id);
		return -1;
	}
	p->idle_fd = -1;
	ev_watch_init(&p->idle_watch);
	if (p->is_console) {
		p->idle_fd = timerfd_create(CLOCK_MONOTONIC,
					    TFD_NONBLOCK | TFD_CLOEXEC);
		if (p->idle_fd < 0 ||
		    ev_add(cfg->loop, &p->idle_watch, p->idle_fd, EPOLLIN,
			   on_idle, p) < 0)
			log_warn("port %u: no idle timer (%s); its output buffer keeps its memory", p->id, strerror(errno));
	}
	p->host_ev = (struct backend_events){
		.opaque = p,
		.connected = on_connected,
		.disconnected = on_disconnected,
		.input = on_input,
		.writable = on_writable,
		.quit = on_quit,
	};
	if (p->is_console)
		snprintf(door, sizeof(door), "console %u", cfg->index);
	else
		snprintf(door, sizeof(door), "port %s of guest %u", p->name,
			 cfg->index);
	return backend_init(&p->host, &(struct backend_config){
		.kind = cfg->kind,
		.listen_fd = cfg->listen_fd,
		.index = cfg->index,
		.max_clients = cfg->max_clients,
		.is_port = !p->is_console,
		.loop = cfg->loop,
		.ev = &p->host_ev,
		.policy = cfg->policy,
		.door_name = door,
	});
}

void port_fini(struct port *p)
{
	backend_fini(&p->host);
	if (p->idle_fd >= 0) {
		ev_del(p->host.loop, &p->idle_watch);
		close(p->idle_fd);
		p->idle_fd = -1;
	}
	free(p->iov);
	free(p->heads);
	free(p->lens);
	free(p->tx_v);
	free(p->tx_heads);
	free(p->tx_lens);
	outbuf_fini(&p->out);
	p->iov = NULL;
	p->heads = NULL;
	p->lens = NULL;
	p->tx_v = NULL;
	p->tx_heads = NULL;
	p->tx_lens = NULL;
}
