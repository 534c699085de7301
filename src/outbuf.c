/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * outbuf.c - a byte ring that keeps the newest bytes.
 *
 * Every byte has a position in all output so far (base is the oldest
 * kept), so that several readers can each have their own place in it.
 * The memory is mapped untouched, so a 1 MiB buffer costs resident memory
 * only as far as output has filled it, and its owner gives it back with
 * outbuf_release() once the ring has stayed empty after a burst: an idle
 * worker stays small, and a busy one does not fault its pages in again
 * for every batch.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "outbuf.h"

/* Below this, giving pages back costs more than it saves. */
#define RELEASE_MIN (64u << 10)

int outbuf_init(struct outbuf *ob, size_t cap)
{
	void *p;

	memset(ob, 0, sizeof(*ob));
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return -1;
	ob->data = p;
	ob->cap = cap;
	return 0;
}

void outbuf_fini(struct outbuf *ob)
{
	if (ob->data)
		munmap(ob->data, ob->cap);
	memset(ob, 0, sizeof(*ob));
}

/** outbuf_release() - give the pages a burst filled back, if empty */
void outbuf_release(struct outbuf *ob)
{
	if (ob->len || ob->touched < RELEASE_MIN)
		return;
	ob->head = 0;
	madvise(ob->data, ob->cap, MADV_DONTNEED);
	ob->touched = 0;
}

/** outbuf_holds_memory() - is there memory outbuf_release() would free? */
bool outbuf_holds_memory(const struct outbuf *ob)
{
	return ob->touched >= RELEASE_MIN;
}

/* Copy @len bytes in at the tail; the caller made room. */
static void put(struct outbuf *ob, const uint8_t *p, size_t len)
{
	size_t tail = (ob->head + ob->len) % ob->cap;
	size_t first = ob->cap - tail < len ? ob->cap - tail : len;

	memcpy(ob->data + tail, p, first);
	memcpy(ob->data, p + first, len - first);
	ob->len += len;
	if (ob->len > ob->touched)
		ob->touched = ob->len;
	if (tail + first > ob->touched)
		ob->touched = tail + first;
	if (len > first)
		ob->touched = ob->cap;
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
		ob->base += ob->len + (total - ob->cap);
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
			ob->base += len - ob->cap;
			p += len - ob->cap;
			len = ob->cap;
		}
		if (ob->len + len > ob->cap) {
			size_t drop = ob->len + len - ob->cap;

			/* Oldest out, without giving memory back midway. */
			ob->head = (ob->head + drop) % ob->cap;
			ob->len -= drop;
			ob->base += drop;
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

/**
 * outbuf_peek_at() - the bytes from position @pos on, as up to two iovecs
 * (@pos at or past the base; nothing when it is the end)
 */
unsigned int outbuf_peek_at(const struct outbuf *ob, uint64_t pos,
			    struct iovec iov[2])
{
	size_t skip, first;
	unsigned int n = outbuf_peek(ob, iov);

	if (pos <= ob->base)
		return n;
	skip = pos - ob->base;
	if (skip >= ob->len)
		return 0;
	first = iov[0].iov_len;
	if (skip >= first) {
		iov[0].iov_base = (uint8_t *)iov[1].iov_base + (skip - first);
		iov[0].iov_len = iov[1].iov_len - (skip - first);
		return 1;
	}
	iov[0].iov_base = (uint8_t *)iov[0].iov_base + skip;
	iov[0].iov_len -= skip;
	return n;
}

/** outbuf_consume() - forget the @n oldest bytes */
void outbuf_consume(struct outbuf *ob, size_t n)
{
	if (n > ob->len)
		n = ob->len;
	ob->head = (ob->head + n) % ob->cap;
	ob->len -= n;
	ob->base += n;
}

/** outbuf_consume_to() - forget the bytes before position @pos */
void outbuf_consume_to(struct outbuf *ob, uint64_t pos)
{
	if (pos > ob->base)
		outbuf_consume(ob, pos - ob->base > ob->len ? ob->len
							   : (size_t)(pos - ob->base));
}

/**
 * outbuf_skip() - @n bytes of output went past the buffer (every reader
 * took them straight away); the buffer must be empty
 */
void outbuf_skip(struct outbuf *ob, size_t n)
{
	if (ob->len == 0)
		ob->base += n;
}
