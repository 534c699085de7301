/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * virtqueue.c - walk split rings in guest memory.
 *
 * The guest may rewrite any ring field at any time, so every field is read
 * once into a local before it is checked and used, and the checks never
 * assume two reads agree. Barriers follow the virtio memory model: acquire
 * after reading avail->idx, release before publishing used->idx, a full
 * fence between publishing and reading the guest's event index.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "virtqueue.h"

#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

void vq_init(struct virtqueue *vq, unsigned int index, struct guest_mem *mem)
{
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->mem = mem;
	vq->kick_fd = -1;
	vq->call_fd = -1;
	vq->err_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/** vq_reset() - back to the state before any message; fds are closed */
void vq_reset(struct virtqueue *vq)
{
	close_fd(&vq->kick_fd);
	close_fd(&vq->call_fd);
	close_fd(&vq->err_fd);
	vq_init(vq, vq->index, vq->mem);
}

void vq_set_features(struct virtqueue *vq, uint64_t features)
{
	vq->event_idx = features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	vq->notify_on_empty = features & (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY);
}

/**
 * vq_map() - translate the ring addresses for the current memory table
 *
 * Called when the addresses or the queue size are set and whenever the
 * memory table changes, since a ring pointer into a removed region would
 * dangle.
 *
 * Return: 0 if the rings lie in guest memory (or are not set up yet), -1
 */
int vq_map(struct virtqueue *vq)
{
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	if (!vq->addr_set || vq->num == 0)
		return 0;
	if (vq->desc_uva % VRING_DESC_ALIGN ||
	    vq->avail_uva % VRING_AVAIL_ALIGN ||
	    vq->used_uva % VRING_USED_ALIGN) {
		log_error("queue %u: misaligned ring addresses", vq->index);
		return -1;
	}
	vq->desc =
		guest_mem_uva(vq->mem, vq->desc_uva, vring_desc_bytes(vq->num));
	vq->avail = guest_mem_uva(vq->mem, vq->avail_uva,
				  vring_avail_bytes(vq->num));
	vq->used =
		guest_mem_uva(vq->mem, vq->used_uva, vring_used_bytes(vq->num));
	/* An odd mmap offset misaligns what aligned addresses map to. */
	if (vq->desc && vq->avail && vq->used &&
	    ((uintptr_t)vq->desc % VRING_DESC_ALIGN ||
	     (uintptr_t)vq->avail % VRING_AVAIL_ALIGN ||
	     (uintptr_t)vq->used % VRING_USED_ALIGN)) {
		log_error("queue %u: rings land misaligned in this process "
			  "(the memory region's mmap offset is odd)",
			  vq->index);
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -1;
	}
	if (!vq->desc || !vq->avail || !vq->used) {
		log_error("queue %u: ring addresses desc %#llx avail %#llx "
			  "used "
			  "%#llx (size %u) are not in guest memory",
			  vq->index, (unsigned long long)vq->desc_uva,
			  (unsigned long long)vq->avail_uva,
			  (unsigned long long)vq->used_uva, vq->num);
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -1;
	}
	return 0;
}

/**
 * vq_set_num() - SET_VRING_NUM: a new size, which remaps the rings
 *
 * Rings whose addresses came before their size get the guest's used index
 * only now that they can be mapped.
 */
void vq_set_num(struct virtqueue *vq, uint16_t num)
{
	vq->num = num;
	vq->broken = false;
	if (vq_map(vq) == 0 && vq->used)
		vq->used_idx = READ_ONCE(vq->used->idx);
}

/**
 * vq_set_addr() - SET_VRING_ADDR: new rings; the used index is the guest's
 *
 * Return: 0, or -1 if the rings are not in guest memory
 */
int vq_set_addr(struct virtqueue *vq, uint64_t desc, uint64_t avail,
		uint64_t used)
{
	vq->desc_uva = desc;
	vq->avail_uva = avail;
	vq->used_uva = used;
	vq->addr_set = true;
	vq->broken = false;
	vq->inflight = 0;
	vq->signalled_used_valid = false;
	if (vq_map(vq) < 0)
		return -1;
	if (vq->used)
		vq->used_idx = READ_ONCE(vq->used->idx);
	return 0;
}

/* The event index fields sit just past each ring (VIRTIO_RING_F_EVENT_IDX). */
static uint16_t used_event(const struct virtqueue *vq)
{
	return READ_ONCE(vq->avail->ring[vq->num]);
}

static void set_avail_event(struct virtqueue *vq, uint16_t v)
{
	volatile uint16_t *p = (volatile uint16_t *)&vq->used->ring[vq->num];

	*p = v;
}

/* Has the used index crossed @event going from @old to @new? */
static bool vring_need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/** vq_ready() - may the device process this queue now? */
bool vq_ready(const struct virtqueue *vq)
{
	return vq->started && vq->enabled && !vq->broken && vq->desc;
}

static void __attribute__((format(printf, 2, 3)))
vq_break(struct virtqueue *vq, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_error("queue %u: %s; queue stopped until the device is reset",
		  vq->index, why);
	vq->broken = true;
}

struct walk {
	const struct vring_desc *table; /* direct ring or indirect table */
	unsigned int max; /* descriptors it holds */
	bool indirect;
};

/* Enter the indirect table @d points at, as the head of a chain. */
static bool enter_indirect(struct virtqueue *vq, struct walk *w,
			   const struct vring_desc *d, unsigned int count)
{
	if (!vq->indirect) {
		vq_break(vq, "indirect descriptor without INDIRECT_DESC");
		return false;
	}
	if (w->indirect) {
		vq_break(vq, "nested indirect descriptor table");
		return false;
	}
	if (count != 1 || (d->flags & VRING_DESC_F_NEXT)) {
		vq_break(vq, "indirect descriptor not alone in its chain");
		return false;
	}
	if (d->len == 0 || d->len % sizeof(struct vring_desc) ||
	    d->len / sizeof(struct vring_desc) > vq->num) {
		vq_break(vq, "indirect table of bad length %u", d->len);
		return false;
	}
	w->table = guest_mem_gpa(vq->mem, d->addr, d->len);
	if (!w->table) {
		vq_break(vq, "indirect table %#llx+%u is outside guest memory",
			 (unsigned long long)d->addr, d->len);
		return false;
	}
	w->max = d->len / sizeof(struct vring_desc);
	w->indirect = true;
	return true;
}

/*
 * add_desc() - add one data descriptor to @ch
 *
 * Return: VQ_POP_OK; VQ_POP_NOSPACE when @iov (@cap entries) is full;
 * VQ_POP_BROKEN when the descriptor breaks the ring (logged)
 */
static enum vq_pop_result add_desc(struct virtqueue *vq,
				   const struct vring_desc *d,
				   struct iovec *iov, unsigned int cap,
				   struct vq_chain *ch)
{
	unsigned int n = ch->n_out + ch->n_in;
	bool writable = d->flags & VRING_DESC_F_WRITE;
	uint32_t *total = writable ? &ch->in_len : &ch->out_len;
	void *p;

	if (!writable && ch->n_in) {
		vq_break(vq, "readable descriptor after a writable one");
		return VQ_POP_BROKEN;
	}
	if (d->len == 0)
		return VQ_POP_OK;
	if (*total > UINT32_MAX - d->len) {
		vq_break(vq, "chain longer than 4 GiB");
		return VQ_POP_BROKEN;
	}
	p = guest_mem_gpa(vq->mem, d->addr, d->len);
	if (!p) {
		vq_break(vq, "descriptor %#llx+%u is outside guest memory",
			 (unsigned long long)d->addr, d->len);
		return VQ_POP_BROKEN;
	}
	if (n >= cap)
		return VQ_POP_NOSPACE;
	iov[n].iov_base = p;
	iov[n].iov_len = d->len;
	*total += d->len;
	if (writable)
		ch->n_in++;
	else
		ch->n_out++;
	return VQ_POP_OK;
}

/* Walk the chain at @head into @ch. */
static enum vq_pop_result walk_chain(struct virtqueue *vq, uint16_t head,
				     struct iovec *iov, unsigned int cap,
				     struct vq_chain *ch)
{
	struct walk w = {.table = vq->desc, .max = vq->num};
	unsigned int i = head, count = 0;
	struct vring_desc d;
	enum vq_pop_result r;

	for (;;) {
		memcpy(&d, (const void *)&w.table[i], sizeof(d));
		if (++count > w.max) {
			vq_break(vq,
				 "descriptor chain at %u loops or is longer "
				 "than its table",
				 head);
			return VQ_POP_BROKEN;
		}
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!enter_indirect(vq, &w, &d, count))
				return VQ_POP_BROKEN;
			i = 0;
			count = 0;
			continue;
		}
		r = add_desc(vq, &d, iov, cap, ch);
		if (r != VQ_POP_OK)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return VQ_POP_OK;
		i = d.next;
		if (i >= w.max) {
			vq_break(vq, "descriptor next %u past table of %u", i,
				 w.max);
			return VQ_POP_BROKEN;
		}
	}
}

/**
 * vq_pop() - take the next available chain
 * @vq:		a ready queue
 * @iov:	where the chain's iovecs go
 * @cap:	how many fit
 * @chain:	filled on VQ_POP_OK; chain->iov == @iov
 *
 * On VQ_POP_NOSPACE nothing is consumed: pop again with more room.
 *
 * Return: &enum vq_pop_result
 */
enum vq_pop_result vq_pop(struct virtqueue *vq, struct iovec *iov,
			  unsigned int cap, struct vq_chain *chain)
{
	uint16_t avail_idx, head;
	enum vq_pop_result r;

	if (!vq_ready(vq))
		return vq->broken ? VQ_POP_BROKEN : VQ_POP_EMPTY;
	avail_idx = READ_ONCE(vq->avail->idx);
	if (avail_idx == vq->last_avail_idx) {
		if (!vq->event_idx)
			return VQ_POP_EMPTY;
		/*
		 * Ask for a kick on the next chain, then look again: a chain
		 * published while our avail_event store sat in the store
		 * buffer would otherwise get no kick and wait forever.
		 */
		set_avail_event(vq, vq->last_avail_idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = READ_ONCE(vq->avail->idx);
		if (avail_idx == vq->last_avail_idx)
			return VQ_POP_EMPTY;
	}
	if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
		vq_break(vq, "avail index jumped from %u to %u (size %u)",
			 vq->last_avail_idx, avail_idx, vq->num);
		return VQ_POP_BROKEN;
	}
	/* Read the ring entry only after seeing the index that covers it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = READ_ONCE(vq->avail->ring[vq->last_avail_idx % vq->num]);
	if (head >= vq->num) {
		vq_break(vq, "avail ring names descriptor %u of %u", head,
			 vq->num);
		return VQ_POP_BROKEN;
	}
	memset(chain, 0, sizeof(*chain));
	chain->head = head;
	chain->iov = iov;
	r = walk_chain(vq, head, iov, cap, chain);
	if (r != VQ_POP_OK)
		return r;
	vq->last_avail_idx++;
	vq->inflight++;
	if (vq->event_idx)
		set_avail_event(vq, vq->last_avail_idx);
	return VQ_POP_OK;
}

/**
 * vq_unpop() - give back the last @n popped chains, none of them used
 *
 * Lets a reader pop generously, fill what it can and return the rest
 * untouched instead of completing them empty.
 */
void vq_unpop(struct virtqueue *vq, unsigned int n)
{
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - n);
	vq->inflight -= n;
	if (vq->event_idx)
		set_avail_event(vq, vq->last_avail_idx);
}

/** vq_push() - record chain @head as used with @len bytes written */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];

	WRITE_ONCE(e->id, head);
	WRITE_ONCE(e->len, len);
	vq->used_idx++;
	vq->inflight--;
}

/** vq_flush() - publish the used entries pushed so far */
void vq_flush(struct virtqueue *vq)
{
	/* The entries must be visible before the index that covers them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	WRITE_ONCE(vq->used->idx, vq->used_idx);
}

/* Does the guest want an interrupt for what was just published? */
static bool should_notify(struct virtqueue *vq)
{
	uint16_t old, new;
	bool valid;

	/* Order the used index write before reading the guest's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->notify_on_empty && vq->inflight == 0 &&
	    READ_ONCE(vq->avail->idx) == vq->last_avail_idx)
		return true;
	if (!vq->event_idx)
		return !(READ_ONCE(vq->avail->flags) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	valid = vq->signalled_used_valid;
	old = vq->signalled_used;
	new = vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = true;
	return !valid || vring_need_event(used_event(vq), new, old);
}

/**
 * vq_notify() - interrupt the guest if it asked to be
 *
 * The call fd may be an eventfd or, with UML, one end of a socketpair:
 * writing an 8-byte count works for both.
 */
void vq_notify(struct virtqueue *vq)
{
	uint64_t one = 1;

	if (vq->call_fd < 0 || !vq->used || !should_notify(vq))
		return;
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("queue %u: call fd: %s", vq->index, strerror(errno));
}

/**
 * vq_kick_self() - have the loop come back to this queue, as a kick would
 *
 * Lets a busy queue yield to the rest of the loop without waiting for a
 * kick the guest will not send (it already kicked for these chains).
 *
 * Return: false if the kick fd cannot be written (the caller then goes on)
 */
bool vq_kick_self(struct virtqueue *vq)
{
	uint64_t one = 1;

	return vq->kick_fd >= 0 && write(vq->kick_fd, &one, sizeof(one)) == 8;
}

/** vq_has_avail() - are chains waiting to be popped? */
bool vq_has_avail(struct virtqueue *vq)
{
	return vq_ready(vq) && READ_ONCE(vq->avail->idx) != vq->last_avail_idx;
}

/**
 * vq_enable_notify() - ask the guest to kick when it adds a chain
 *
 * Return: true if chains arrived meanwhile (the caller should pop them
 * rather than wait for a kick that may not come)
 */
bool vq_enable_notify(struct virtqueue *vq)
{
	if (!vq_ready(vq))
		return false;
	if (vq->event_idx)
		set_avail_event(vq, vq->last_avail_idx);
	else
		WRITE_ONCE(vq->used->flags, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return READ_ONCE(vq->avail->idx) != vq->last_avail_idx;
}
