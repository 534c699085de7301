/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz.h - what the libFuzzer targets and the seed generator share: the
 * input formats, a reader for them, and the checks every target runs.
 *
 * Both formats are read front to back; a field past the end of the input
 * reads as zero, so every input is valid and means something.
 *
 * fuzz_vhost_user input: one mode byte (FZ_MODE_*), then records. A
 * record starts with a control byte whose top three bits are its kind:
 *
 *   0-3 message	fds, then bytes for the vhost-user socket. Bits 0-3
 *			are the number of fds (mod 11, so up to 10: more than
 *			a message may carry), FZ_MSG_SPLIT sends the bytes in
 *			two writes (the fds with the first, split point u16),
 *			FZ_MSG_RAW takes the bytes as u16 length + data
 *			instead of a 12-byte header + header.size payload
 *			bytes, FZ_MSG_NO_PUMP lets the next record's bytes
 *			arrive before the daemon reads these.
 *			Each fd is a kind byte (enum fz_fd_kind, mod
 *			FZ_FD_KINDS) and its arguments: a memfd takes u16
 *			pages and a chunk list, an eventfd its u8 counter,
 *			a pipe or socket the u8 number of bytes waiting in it.
 *   4 poke		u8 slot, chunk list: the guest writes its memory
 *   5 kick		u8 slot: the guest kicks (or the VMM writes a call fd)
 *   6 client input	u16 length + bytes typed by the console client
 *			(which connects first if it is not there)
 *   7 hang up		u8: even, the frontend closes the connection (the
 *			harness connects again); odd, the client hangs up,
 *			or connects again if it had
 *
 * A chunk list is a u8 count, then per chunk u32 offset, u16 length and
 * the bytes. Slots number the harness's own ends of the fds it passed (a
 * dup of a memfd or eventfd, the other end of a pipe or socket), in the
 * order the fds were sent; fz_fd_keeps() says which kinds take a slot.
 *
 * fuzz_virtqueue input: struct fz_vq_header, then the bytes of guest
 * memory from the start of the first region.
 */
#ifndef VDC_FUZZ_H
#define VDC_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "guest_mem.h"
#include "virtqueue.h"

#define FZ_PAGE 4096u

/* fuzz_vhost_user: the mode byte. */
#define FZ_MODE_CONSOLE	    0x01 /* the real console device, not the stub */
#define FZ_MODE_SMALL_IOV   0x02 /* the stub pops with one iovec first */
#define FZ_MODE_UNPOP	    0x04 /* the stub gives back odd-headed chains */
#define FZ_MODE_SLOW_CLIENT 0x08 /* the client reads only when it types */
#define FZ_MODE_CONFIG_RO   0x10 /* the stub refuses SET_CONFIG */

/* fuzz_vhost_user: record kinds and message flags. */
#define FZ_REC_KIND(ctl)   ((unsigned int)(ctl) >> 5)
#define FZ_REC_POKE	   4u
#define FZ_REC_KICK	   5u
#define FZ_REC_INPUT	   6u
#define FZ_REC_HANGUP	   7u
#define FZ_MSG_NFDS(ctl)   (((unsigned int)(ctl)&0x0f) % 11)
#define FZ_MSG_SPLIT	   0x10u
#define FZ_MSG_RAW	   0x20u
#define FZ_MSG_NO_PUMP	   0x40u
#define FZ_MEMFD_MAX_PAGES 4096u /* 16 MiB, sparse */

enum fz_fd_kind {
	FZ_FD_MEMFD, /* guest memory; slot: a dup, for pokes */
	FZ_FD_EVENTFD, /* slot: a dup, for kicks */
	FZ_FD_PIPE_READ, /* slot: the write end */
	FZ_FD_PIPE_WRITE, /* slot: the read end, so writes never fail */
	FZ_FD_PIPE_EOF, /* read end whose writer is gone */
	FZ_FD_DEVNULL, /* a character device nothing can mmap or poll */
	FZ_FD_SOCKET, /* slot: the peer */
	FZ_FD_CONNECTION, /* the frontend's own end of the connection */
	FZ_FD_PIPE_BLOCKING, /* read end in blocking mode; slot: write end */
	FZ_FD_PIPE_FULL, /* write end in blocking mode of a full pipe;
			    slot: the read end */
	FZ_FD_KINDS,
};

/* Does the harness keep a slot for an fd of @kind? */
static inline bool fz_fd_keeps(enum fz_fd_kind kind)
{
	return kind != FZ_FD_PIPE_EOF && kind != FZ_FD_DEVNULL &&
	       kind != FZ_FD_CONNECTION;
}

/* fuzz_virtqueue: the header; ring offsets are from the first uva. */
#define FZ_VQ_EVENT_IDX	      0x01
#define FZ_VQ_INDIRECT	      0x02
#define FZ_VQ_NOTIFY_ON_EMPTY 0x04
#define FZ_VQ_TWO_REGIONS     0x08 /* a second region right after the first */
#define FZ_VQ_DROP_REGION     0x10 /* the second region goes mid-way */
#define FZ_VQ_ACTIONS	      16
#define FZ_VQ_MAX_REGION      (1u << 20)
#define FZ_VQ_MAX_OFFSET      (1u << 16)

struct fz_vq_header {
	uint8_t flags;
	uint8_t qlog; /* queue size 1 << (qlog % 9) */
	uint16_t last_avail_idx;
	uint32_t region_size; /* 1 + this % FZ_VQ_MAX_REGION */
	uint32_t mmap_offset; /* this % FZ_VQ_MAX_OFFSET */
	uint64_t gpa;
	uint64_t uva;
	uint32_t desc_off, avail_off, used_off;
	uint8_t actions[FZ_VQ_ACTIONS]; /* what the device does, in turn */
} __attribute__((packed));

/* fuzz_virtqueue: actions, the low three bits of an action byte. */
enum fz_vq_action {
	FZ_ACT_POP_PUSH, /* pop one chain and complete it at once */
	FZ_ACT_POP_PUSH2,
	FZ_ACT_POP_PUSH3,
	FZ_ACT_POP_HOLD, /* pop one chain and keep it */
	FZ_ACT_UNPOP, /* give back the newest kept chains */
	FZ_ACT_PUSH_HELD, /* complete every kept chain */
	FZ_ACT_PUBLISH, /* the guest moves avail->idx on */
	FZ_ACT_NOTIFY, /* flush, notify, re-enable notifications */
};

/* A cursor over the input; reads past the end give zeros. */
struct fz_in {
	const uint8_t *p;
	size_t left;
};

/* fz_bytes() - up to @n bytes from @in; *@got says how many */
static inline const uint8_t *fz_bytes(struct fz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*got = n;
	return p;
}

/* fz_uint() - a little-endian integer of @size bytes from @in */
static inline uint64_t fz_uint(struct fz_in *in, size_t size)
{
	uint64_t v = 0;
	size_t got;
	const uint8_t *p = fz_bytes(in, size, &got);

	for (size_t i = 0; i < got; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* fz_u8(), fz_u16(), fz_u32() - the next field of that size */
static inline uint8_t fz_u8(struct fz_in *in)
{
	return (uint8_t)fz_uint(in, 1);
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	return (uint16_t)fz_uint(in, 2);
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	return (uint32_t)fz_uint(in, 4);
}

/* fuzz_common.c: the checks. */
void fuzz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
int fuzz_count_fds(void);
unsigned int fuzz_live_maps(void);
void fuzz_check_range(const struct guest_mem *mem, const void *p, uint64_t len,
		      const char *what);
void fuzz_check_rings(const struct virtqueue *vq);
void fuzz_check_chain(const struct guest_mem *mem, const struct vq_chain *ch,
		      const struct iovec *iov, unsigned int cap);

/* fuzz_common.c: guest mappings get guard pages and are counted. */
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __wrap_munmap(void *addr, size_t len);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __real_munmap(void *addr, size_t len);

#endif
