/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * outbuf.h - guest output waiting for the host client.
 *
 * A fixed-size ring of bytes. When more output arrives than fits, the
 * oldest bytes make room and are counted: a console is better served by
 * the latest screenful than by a stalled guest. With no client connected
 * it therefore holds the most recent output, which the next client gets
 * first.
 */
#ifndef VDC_OUTBUF_H
#define VDC_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct outbuf {
	uint8_t *data;
	size_t cap;
	size_t head; /* oldest byte */
	size_t len;
	uint64_t base; /* the oldest byte's position in all output so far */
	size_t touched; /* bytes of data in use since memory was given back */
	uint64_t dropped; /* bytes overwritten since last report */
	uint64_t dropped_total;
};

int outbuf_init(struct outbuf *ob, size_t cap);
void outbuf_fini(struct outbuf *ob);
void outbuf_append(struct outbuf *ob, const struct iovec *iov, unsigned int n,
		   size_t skip);
unsigned int outbuf_peek(const struct outbuf *ob, struct iovec iov[2]);
unsigned int outbuf_peek_at(const struct outbuf *ob, uint64_t pos,
			    struct iovec iov[2]);
void outbuf_consume(struct outbuf *ob, size_t n);
void outbuf_consume_to(struct outbuf *ob, uint64_t pos);
void outbuf_skip(struct outbuf *ob, size_t n);
void outbuf_release(struct outbuf *ob);
bool outbuf_holds_memory(const struct outbuf *ob);

/* The position just past the newest byte. */
static inline uint64_t outbuf_end(const struct outbuf *ob)
{
	return ob->base + ob->len;
}

#endif
