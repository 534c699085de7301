/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest.c - the benchmark's guest: a console driver with no work to do
 * but feed and drain the rings as fast as the device lets it.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "guest.h"

#define STALL_MS  10000 /* no progress for this long: the daemon hangs */
#define WAIT_MS	  50 /* one wait; stop flags are checked in between */
#define MAX_CHUNK (64u << 10)

/* What the guest "prints": the same readable bytes every time. */
static uint8_t pattern[MAX_CHUNK];

/* Lines of 63 letters and a newline. */
static void fill_pattern(void)
{
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (i % 64 == 63) ? '\n' : (uint8_t)('a' + i % 26);
}

/**
 * guest_open() - connect as QEMU does and bring the console port up
 *
 * Return: 0, or -1 after printing why
 */
int guest_open(struct guest *g, const char *vu_path, uint16_t queue_size,
	       uint32_t buf_size)
{
	struct fe_config cfg = {
		.socket_path = vu_path,
		.style = FE_STYLE_QEMU,
		.queue_size = queue_size,
		.buf_size = buf_size,
	};

	if (pattern[0] == 0)
		fill_pattern();
	g->buf_size = buf_size;
	if (fe_open(&g->fe, &cfg) < 0 || fe_negotiate(&g->fe) < 0 ||
	    fe_console_handshake(&g->fe, NULL, 0) < 0) {
		bench_note("guest on %s: %s", vu_path, g->fe.err);
		fe_close(&g->fe);
		return -1;
	}
	if (!g->fe.event_idx)
		bench_note("guest on %s: EVENT_IDX not offered; one kick and "
			   "one call per chain",
			   vu_path);
	return 0;
}

/* Disconnect, as a VM that goes away; the daemon resets the device. */
void guest_close(struct guest *g)
{
	fe_close(&g->fe);
}

/* Has the device used entries we have not read yet? */
static bool used_pending(struct fe *fe, unsigned int q)
{
	const struct fe_ring *r = &fe->rings[q];

	return *(const volatile uint16_t *)&r->used->idx != r->last_used;
}

/*
 * Block until the device signals @q or has used entries, at most @ms.
 * fe_get_used() stored used_event = last_used; the full fence orders that
 * store before the check, or a call could be skipped by the device while
 * we miss its entries, and we would sleep until the timeout.
 *
 * Return: 1 if there is something to read, 0 on timeout
 */
static int guest_wait(struct guest *g, unsigned int q, int ms)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (used_pending(&g->fe, q))
		return 1;
	return fe_wait_call(&g->fe, q, ms) || used_pending(&g->fe, q);
}

/* Read every used tx entry; how many, or -1 on a bad entry. */
static int reap_tx(struct guest *g)
{
	uint16_t id;
	uint32_t len;
	int n = 0, r;

	while ((r = fe_get_used(&g->fe, CONSOLE_QUEUE_TX, &id, &len)) == 1)
		n++;
	return r < 0 ? -1 : n;
}

/* Add as many chains of @chunk bytes as fit, up to @left; how many. */
static unsigned int fill_tx(struct guest *g, uint64_t left, uint32_t chunk)
{
	unsigned int n = 0;

	while (left >= chunk && fe_ring_free(&g->fe, CONSOLE_QUEUE_TX) > 0) {
		fe_submit_tx(&g->fe, CONSOLE_QUEUE_TX, pattern, chunk, chunk,
			     false);
		left -= chunk;
		n++;
	}
	if (n)
		fe_publish(&g->fe, CONSOLE_QUEUE_TX);
	return n;
}

/* How far the guest may go now: @total, or the flow window. */
static uint64_t stream_limit(struct flow *flow, uint64_t total)
{
	uint64_t allowed = flow ? flow_allowed(flow) : total;

	return allowed < total ? allowed : total;
}

/* Nothing to reap or add: wait for the device, or for the client. */
static int stream_wait(struct guest *g, struct flow *flow, uint64_t total,
		       struct tx_result *r)
{
	if (flow && r->bytes < total &&
	    fe_ring_free(&g->fe, CONSOLE_QUEUE_TX) > 0) {
		r->flow_waits++;
		flow_wait(flow, r->bytes, WAIT_MS);
		return 1;
	}
	r->waits++;
	return guest_wait(g, CONSOLE_QUEUE_TX, WAIT_MS);
}

/**
 * guest_stream_tx() - write @total bytes in chains of @chunk, ring full
 * @flow:	keep at most a window ahead of the client; NULL: flood
 *
 * Return: 0 once every chain came back used, -1 if the device stalls
 */
int guest_stream_tx(struct guest *g, uint64_t total, uint32_t chunk,
		    struct flow *flow, struct tx_result *r)
{
	uint64_t inflight = 0;
	double progress;

	memset(r, 0, sizeof(*r));
	if (chunk > MAX_CHUNK || chunk > g->buf_size)
		return -1;
	r->t_start = progress = bench_now();
	while (r->bytes < total || inflight) {
		int reaped = reap_tx(g);
		unsigned int added;

		if (reaped < 0)
			return -1;
		inflight -= (unsigned int)reaped;
		added = fill_tx(g, stream_limit(flow, total) - r->bytes, chunk);
		inflight += added;
		r->bytes += (uint64_t)added * chunk;
		r->chains += added;
		if (reaped || added) {
			progress = bench_now();
			continue;
		}
		if (!stream_wait(g, flow, total, r) &&
		    bench_now() - progress > STALL_MS / 1000.0)
			return -1;
	}
	r->t_end = bench_now();
	return 0;
}

/* Read every used rx entry into @sink, post them again; bytes, or -1. */
static long long reap_rx(struct guest *g, uint8_t *sink)
{
	unsigned int n = 0;
	long long bytes = 0;
	uint16_t id;
	uint32_t len;
	int r;

	while ((r = fe_get_used(&g->fe, CONSOLE_QUEUE_RX, &id, &len)) == 1) {
		/* The guest's tty layer copies the bytes out; so do we. */
		memcpy(sink, fe_buf(&g->fe, CONSOLE_QUEUE_RX, id),
		       len < g->buf_size ? len : g->buf_size);
		bytes += len;
		n++;
	}
	if (r < 0)
		return -1;
	if (n) {
		fe_post_rx(&g->fe, CONSOLE_QUEUE_RX, n, g->buf_size);
		fe_publish(&g->fe, CONSOLE_QUEUE_RX);
	}
	return bytes;
}

/**
 * guest_drain_rx() - take input until @total bytes came or *@stop
 * @got:	bytes received
 * @t_last:	when the last of them arrived
 *
 * Return: 0, or -1 on a bad ring entry or a stall
 */
int guest_drain_rx(struct guest *g, uint64_t total, const bool *stop,
		   uint64_t *got, double *t_last)
{
	static uint8_t sink[MAX_CHUNK];
	double progress = bench_now();

	*got = 0;
	*t_last = progress;
	while (*got < total && !__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		long long n = reap_rx(g, sink);

		if (n < 0)
			return -1;
		if (n > 0) {
			*got += (uint64_t)n;
			*t_last = progress = bench_now();
			continue;
		}
		if (!guest_wait(g, CONSOLE_QUEUE_RX, WAIT_MS) &&
		    bench_now() - progress > STALL_MS / 1000.0)
			return -1;
	}
	return 0;
}

/* Send back every received buffer as one tx chain each; how many. */
static int reflect_rx(struct guest *g)
{
	unsigned int n = 0;
	uint16_t id;
	uint32_t len;
	int r;

	while ((r = fe_get_used(&g->fe, CONSOLE_QUEUE_RX, &id, &len)) == 1) {
		if (len && fe_submit_tx(&g->fe, CONSOLE_QUEUE_TX,
					fe_buf(&g->fe, CONSOLE_QUEUE_RX, id),
					len, len, false) < 0)
			return -1;
		n++;
	}
	if (r < 0)
		return -1;
	if (n) {
		fe_publish(&g->fe, CONSOLE_QUEUE_TX);
		fe_post_rx(&g->fe, CONSOLE_QUEUE_RX, n, g->buf_size);
		fe_publish(&g->fe, CONSOLE_QUEUE_RX);
	}
	return (int)n;
}

/**
 * guest_echo_once() - reflect the next input, and wait until it is sent
 *
 * Proves both directions are wired before a measurement starts.
 *
 * Return: 0, or -1 if nothing came within @ms
 */
int guest_echo_once(struct guest *g, int ms)
{
	double deadline = bench_now() + ms / 1000.0;
	int n, r;

	while ((n = reflect_rx(g)) == 0 && bench_now() < deadline)
		guest_wait(g, CONSOLE_QUEUE_RX, WAIT_MS);
	if (n <= 0)
		return -1;
	while ((r = reap_tx(g)) == 0 && bench_now() < deadline)
		guest_wait(g, CONSOLE_QUEUE_TX, WAIT_MS);
	return r > 0 ? 0 : -1;
}

/**
 * guest_echo() - return every byte received on tx at once, until *@stop
 *
 * Used tx entries are reaped without waiting for their calls, as Linux's
 * hvc writer does.
 *
 * Return: 0, or -1 on a bad ring entry
 */
int guest_echo(struct guest *g, const bool *stop, uint64_t *echoed)
{
	*echoed = 0;
	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		int n;

		if (reap_tx(g) < 0)
			return -1;
		n = reflect_rx(g);
		if (n < 0)
			return -1;
		*echoed += (unsigned int)n;
		if (n == 0)
			guest_wait(g, CONSOLE_QUEUE_RX, WAIT_MS);
	}
	return 0;
}
