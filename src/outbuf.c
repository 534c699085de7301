/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * outbuf.c - a byte ring that keeps the newest bytes.
 *
 * The memory comes from malloc() untouched, so a 1 MiB buffer costs
 * resident memory only as far as output has ever filled it.
 */
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"

int outbuf_init(struct outbuf *ob, size_t cap)
{
	memset(ob, 0, sizeof(*ob));
	ob->data = malloc(cap);
	if (!ob->data)
		return -1;
	ob->cap = cap;
	return 0;
}

void outbuf_fini(struct outbuf *ob)
{
	free(ob->data);
	memset(ob, 0, sizeof(*ob));
}

/* Copy @len bytes in at the tail; the caller made room. */
static void put(struct outbuf *ob, const uint8_t *p, size_t len)
{
	size_t tail = (ob->head + ob->len) % ob->cap;
	size_t first = ob->cap - tail < len ? ob->cap - tail : len;

	memcpy(ob->data + tail, p, first);
	memcpy(ob->data, p + first, len - first);
	ob->len += len;
}

/**
 * outbuf_append() - add the bytes of @iov[0..n) past the first @skip
 *
 * Drops the oldest bytes when full, counting them in ob->dropped.
 */
void outbuf_append(struct outbuf *ob, const struct iovec *iov, unsigned int n,
		   size_t skip)
{
	size_t total = 0;

	if (ob->cap == 0)
		return;
	for (unsigned int i = 0; i < n; i++)
		total += iov[i].iov_len;
	total = total > skip ? total - skip : 0;
	/* A batch larger than the buffer: only its newest cap bytes can
	 * stay, so skip the rest without copying it. */
	if (total >= ob->cap) {
		ob->dropped += ob->len + (total - ob->cap);
		skip += total - ob->cap;
		ob->head = 0;
		ob->len = 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		/* Only the newest cap bytes of this piece can survive. */
		if (len > ob->cap) {
			ob->dropped += len - ob->cap;
			p += len - ob->cap;
			len = ob->cap;
		}
		if (ob->len + len > ob->cap) {
			size_t drop = ob->len + len - ob->cap;

			outbuf_consume(ob, drop);
			ob->dropped += drop;
		}
		put(ob, p, len);
	}
}

/**
 * outbuf_peek() - the buffered bytes, oldest first, as up to two iovecs
 *
 * Return: how many iovecs were filled (0 when empty)
 */
unsigned int outbuf_peek(const struct outbuf *ob, struct iovec iov[2])
{
	size_t first;

	if (ob->len == 0)
		return 0;
	first = ob->cap - ob->head < ob->len ? ob->cap - ob->head : ob->len;
	iov[0].iov_base = ob->data + ob->head;
	iov[0].iov_len = first;
	if (first == ob->len)
		return 1;
	iov[1].iov_base = ob->data;
	iov[1].iov_len = ob->len - first;
	return 2;
}

/** outbuf_consume() - forget the @n oldest bytes */
void outbuf_consume(struct outbuf *ob, size_t n)
{
	if (n > ob->len)
		n = ob->len;
	ob->head = (ob->head + n) % ob->cap;
	ob->len -= n;
	if (ob->len == 0)
		ob->head = 0;
}
