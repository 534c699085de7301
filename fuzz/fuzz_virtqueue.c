/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_virtqueue.c - libFuzzer target: the split-ring walker over guest
 * memory the fuzzer writes.
 *
 * The input's header (struct fz_vq_header) places one or two regions of a
 * memfd in guest memory and the three rings in them, picks the queue size,
 * the ring features and where the device thinks the guest is; the rest of
 * the input is the memory itself. The device then pops, completes, keeps,
 * gives back and notifies as the header's actions say, for a bounded
 * number of steps, while the guest may move avail->idx on.
 *
 * Findings: anything ASan or UBSan reports, a popped iovec or a ring
 * outside guest memory (see fuzz_common.c), a chain's lengths not adding
 * up, in-flight accounting that drifts from what the device holds, and any
 * fd or mapping left behind.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest_mem.h"
#include "virtqueue.h"

#define FZ_IOVS	    512 /* more than any chain may need (<= 256 here) */
#define FZ_HELD_MAX 512

struct vq_run {
	struct fz_vq_header h;
	struct guest_mem mem;
	struct virtqueue vq;
	struct vhost_user_mem_region second;
	struct iovec iov[FZ_IOVS];
	uint16_t held[FZ_HELD_MAX];
	unsigned int n_held;
	unsigned int recent; /* newest held chains, none completed since */
};

static struct vq_run run;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * map_memory() - the memfd with the input's memory, as one or two regions
 * @r:		the run; r->h is filled in
 * @mem:	bytes for the first region onwards
 * @len:	how many
 *
 * Return: the number of regions mapped (0 when the header's are invalid)
 */
static unsigned int map_memory(struct vq_run *r, const uint8_t *mem, size_t len)
{
	uint64_t size = 1 + r->h.region_size % FZ_VQ_MAX_REGION;
	uint64_t off = r->h.mmap_offset % FZ_VQ_MAX_OFFSET;
	unsigned int n = r->h.flags & FZ_VQ_TWO_REGIONS ? 2 : 1;
	struct vhost_user_mem_region first = {
		.guest_phys_addr = r->h.gpa,
		.memory_size = size,
		.userspace_addr = r->h.uva,
		.mmap_offset = off,
	};
	int fd = memfd_create("fuzz-guest-ram", MFD_CLOEXEC), fd2;

	if (fd < 0 || ftruncate(fd, (off_t)(off + n * size)) < 0)
		fuzz_fail("memfd: cannot make %llu bytes",
			  (unsigned long long)(off + n * size));
	if (len > n * size)
		len = (size_t)(n * size);
	if (len && pwrite(fd, mem, len, (off_t)off) != (ssize_t)len)
		fuzz_fail("memfd: short write");
	r->second = (struct vhost_user_mem_region){
		.guest_phys_addr = first.guest_phys_addr + size,
		.memory_size = size,
		.userspace_addr = first.userspace_addr + size,
		.mmap_offset = off + size,
	};
	/* guest_mem_add() owns the fd it is given, even when it fails. */
	fd2 = n == 2 ? dup(fd) : -1;
	guest_mem_add(&r->mem, &first, fd);
	if (fd2 >= 0)
		guest_mem_add(&r->mem, &r->second, fd2);
	return r->mem.count;
}

/* features_of() - the ring feature bits the header's flags ask for */
static uint64_t features_of(uint8_t flags)
{
	uint64_t f = 0;

	if (flags & FZ_VQ_EVENT_IDX)
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (flags & FZ_VQ_INDIRECT)
		f |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (flags & FZ_VQ_NOTIFY_ON_EMPTY)
		f |= 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY;
	return f;
}

/*
 * pop() - pop one chain and check it; retries with room for any chain
 * @r:		the run
 * @cap:	iovecs offered first
 * @ch:		the chain, on VQ_POP_OK
 *
 * Return: what vq_pop() said in the end
 */
static enum vq_pop_result pop(struct vq_run *r, unsigned int cap,
			      struct vq_chain *ch)
{
	enum vq_pop_result res = vq_pop(&r->vq, r->iov, cap, ch);

	if (res == VQ_POP_NOSPACE) {
		if (cap == FZ_IOVS)
			fuzz_fail("a chain needs more than %u iovecs", FZ_IOVS);
		cap = FZ_IOVS;
		res = vq_pop(&r->vq, r->iov, cap, ch);
		if (res == VQ_POP_NOSPACE)
			fuzz_fail("a chain needs more than %u iovecs", FZ_IOVS);
	}
	if (res != VQ_POP_OK)
		return res;
	if (ch->head >= r->vq.num)
		fuzz_fail("popped head %u of a ring of %u", ch->head,
			  r->vq.num);
	fuzz_check_chain(&r->mem, ch, r->iov, cap);
	return res;
}

/* complete_held() - push every kept chain, oldest or newest first */
static void complete_held(struct vq_run *r, bool newest_first)
{
	for (unsigned int i = 0; i < r->n_held; i++) {
		unsigned int k = newest_first ? r->n_held - 1 - i : i;

		vq_push(&r->vq, r->held[k], (uint32_t)k);
	}
	r->n_held = 0;
	r->recent = 0;
	vq_flush(&r->vq);
	vq_notify(&r->vq);
}

/*
 * step() - do what one action byte says
 * @r:		the run
 * @b:		the action (low 3 bits) and its argument (the rest)
 *
 * Return: false once the queue is broken or gone
 */
static bool step(struct vq_run *r, uint8_t b)
{
	unsigned int arg = b >> 3;
	enum vq_pop_result res = VQ_POP_EMPTY;
	struct vq_chain ch;
	unsigned int n;

	switch ((enum fz_vq_action)(b & 7)) {
	case FZ_ACT_POP_PUSH:
	case FZ_ACT_POP_PUSH2:
	case FZ_ACT_POP_PUSH3:
		res = pop(r, 1u << (arg % 10), &ch);
		if (res == VQ_POP_OK) {
			vq_push(&r->vq, ch.head, ch.in_len);
			r->recent = 0;
			vq_flush(&r->vq);
			if (arg & 1)
				vq_notify(&r->vq);
		}
		break;
	case FZ_ACT_POP_HOLD:
		if (r->n_held == FZ_HELD_MAX)
			complete_held(r, false);
		res = pop(r, 1u << (arg % 10), &ch);
		if (res == VQ_POP_OK) {
			r->held[r->n_held++] = ch.head;
			r->recent++;
		}
		break;
	case FZ_ACT_UNPOP:
		n = 1 + arg % 4;
		if (n > r->recent)
			n = r->recent;
		if (n == 0)
			break;
		vq_unpop(&r->vq, n);
		r->n_held -= n;
		r->recent -= n;
		break;
	case FZ_ACT_PUSH_HELD:
		if (r->vq.used)
			complete_held(r, arg & 1);
		break;
	case FZ_ACT_PUBLISH:
		if (r->vq.avail) {
			volatile uint16_t *idx = &r->vq.avail->idx;

			*idx = (uint16_t)(*idx + 1 + arg % 4);
		}
		break;
	case FZ_ACT_NOTIFY:
		if (r->vq.used) {
			vq_flush(&r->vq);
			vq_notify(&r->vq);
		}
		if (vq_enable_notify(&r->vq) != vq_has_avail(&r->vq))
			fuzz_fail("vq_enable_notify() and vq_has_avail() "
				  "disagree");
		break;
	}
	if (r->vq.inflight != r->n_held)
		fuzz_fail("%u chains in flight, the device holds %u",
			  r->vq.inflight, r->n_held);
	if (res == VQ_POP_BROKEN) {
		if (vq_pop(&r->vq, r->iov, FZ_IOVS, &ch) != VQ_POP_BROKEN)
			fuzz_fail("a broken queue popped again");
		return false;
	}
	return true;
}

/*
 * drop_second() - the frontend removes the second region mid-way
 *
 * Return: false if the rings were in it (the queue is gone)
 */
static bool drop_second(struct vq_run *r)
{
	if (r->mem.count < 2)
		return true;
	if (guest_mem_remove(&r->mem, &r->second) < 0)
		fuzz_fail("the second region cannot be removed");
	vq_map(&r->vq);
	fuzz_check_rings(&r->vq);
	/* Rings that were in the region went with it: the queue stops. */
	return r->vq.desc != NULL;
}

/**
 * LLVMFuzzerTestOneInput() - one ring set-up and one device run over it
 * @data:	struct fz_vq_header, then guest memory
 * @size:	its length
 *
 * Return: 0
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vq_run *r = &run;
	int fds = fuzz_count_fds();
	unsigned int steps;
	size_t hlen = size < sizeof(r->h) ? size : sizeof(r->h);

	memset(r, 0, sizeof(*r));
	memcpy(&r->h, data, hlen);
	guest_mem_init(&r->mem);
	vq_init(&r->vq, 0, &r->mem);
	if (map_memory(r, data + hlen, size - hlen) == 0)
		goto out;
	r->vq.num = (uint16_t)(1u << (r->h.qlog % 9));
	vq_set_features(&r->vq, features_of(r->h.flags));
	r->vq.started = true;
	r->vq.enabled = true;
	r->vq.call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vq_set_addr(&r->vq, r->h.uva + r->h.desc_off, r->h.uva + r->h.avail_off,
		    r->h.uva + r->h.used_off);
	fuzz_check_rings(&r->vq);
	r->vq.last_avail_idx = r->h.last_avail_idx;

	steps = 4u * r->vq.num + 64;
	for (unsigned int i = 0; i < steps; i++) {
		if (i == steps / 2 && (r->h.flags & FZ_VQ_DROP_REGION) &&
		    !drop_second(r))
			break;
		if (!step(r, r->h.actions[i % FZ_VQ_ACTIONS]))
			break;
	}
out:
	vq_reset(&r->vq);
	guest_mem_clear(&r->mem);
	if (fuzz_live_maps() != 0)
		fuzz_fail("%u guest mappings left", fuzz_live_maps());
	if (fuzz_count_fds() != fds)
		fuzz_fail("%d fds before the input, %d after", fds,
			  fuzz_count_fds());
	return 0;
}
