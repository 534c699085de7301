/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * fuzz_common.c - the checks every fuzz target runs on top of ASan and
 * UBSan: that no fd and no guest mapping outlives an input, and that
 * everything a popped chain or a ring pointer names lies inside guest
 * memory.
 *
 * Guest mappings are caught at the link (-Wl,--wrap=mmap,--wrap=munmap):
 * each shared file mapping is placed between two PROT_NONE guard pages, so
 * that a read or write just past a region faults instead of landing in
 * whatever mapping happens to be next, and is counted until unmapped.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_TRACKED 64

struct tracked_map {
	uint8_t *addr;
	size_t len;
};

static struct tracked_map maps[MAX_TRACKED];
static unsigned int n_maps;

/**
 * fuzz_fail() - report a broken invariant and abort, which libFuzzer
 * counts as a crash and saves the input for
 * @fmt:	what went wrong
 */
void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("==fuzz== invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/**
 * fuzz_count_fds() - how many fds this process has open
 *
 * Return: the count (the directory's own fd included, every time alike)
 */
int fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		fuzz_fail("cannot open /proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/** fuzz_live_maps() - guest mappings made and not yet unmapped */
unsigned int fuzz_live_maps(void)
{
	return n_maps;
}

/* The page-rounded length of a mapping of @len bytes. */
static size_t page_round(size_t len)
{
	return (len + FZ_PAGE - 1) & ~(size_t)(FZ_PAGE - 1);
}

/**
 * __wrap_mmap() - mmap() as the code under test sees it
 *
 * A shared mapping of a file is made inside a reservation one page larger
 * on each side, and recorded; anything else goes straight through.
 *
 * Return: as mmap()
 */
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	uint8_t *res, *p;

	if (!(flags & MAP_SHARED) || fd < 0 || addr || len == 0 ||
	    len > SIZE_MAX / 2)
		return __real_mmap(addr, len, prot, flags, fd, off);
	if (n_maps == MAX_TRACKED)
		fuzz_fail("more than %d guest mappings at once", MAX_TRACKED);
	res = __real_mmap(NULL, page_round(len) + 2 * FZ_PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	p = __real_mmap(res + FZ_PAGE, len, prot, flags | MAP_FIXED, fd, off);
	if (p == MAP_FAILED) {
		__real_munmap(res, page_round(len) + 2 * FZ_PAGE);
		return MAP_FAILED;
	}
	maps[n_maps].addr = p;
	maps[n_maps].len = len;
	n_maps++;
	return p;
}

/**
 * __wrap_munmap() - munmap() as the code under test sees it
 *
 * A recorded mapping must be unmapped whole, with the length it was made
 * with; its guard pages go with it.
 *
 * Return: as munmap()
 */
int __wrap_munmap(void *addr, size_t len)
{
	for (unsigned int i = 0; i < n_maps; i++) {
		if (maps[i].addr != addr)
			continue;
		if (maps[i].len != len)
			fuzz_fail("guest mapping of %zu bytes unmapped with "
				  "length %zu",
				  maps[i].len, len);
		maps[i] = maps[--n_maps];
		return __real_munmap((uint8_t *)addr - FZ_PAGE,
				     page_round(len) + 2 * FZ_PAGE);
	}
	return __real_munmap(addr, len);
}

/* Is [p, p+len) inside one region's guest-physical range? */
static bool in_region(const struct guest_mem *mem, const uint8_t *p,
		      uint64_t len)
{
	for (unsigned int i = 0; i < mem->count; i++) {
		const struct guest_region *g = &mem->regions[i];

		if (p >= g->host && (uint64_t)(p - g->host) <= g->size &&
		    len <= g->size - (uint64_t)(p - g->host))
			return true;
	}
	return false;
}

/**
 * fuzz_check_range() - fail unless [@p, @p+@len) lies in one region
 * @mem:	the regions
 * @p:		a host pointer the code under test produced
 * @len:	bytes it may touch there
 * @what:	what the range is, for the report
 */
void fuzz_check_range(const struct guest_mem *mem, const void *p, uint64_t len,
		      const char *what)
{
	if (!in_region(mem, p, len))
		fuzz_fail("%s %p+%llu is not inside a guest memory region",
			  what, p, (unsigned long long)len);
}

/**
 * fuzz_check_rings() - the mapped rings of @vq lie in guest memory
 * @vq:		a queue; rings not mapped yet are not checked
 */
void fuzz_check_rings(const struct virtqueue *vq)
{
	if (!vq->desc && !vq->avail && !vq->used)
		return;
	if (!vq->desc || !vq->avail || !vq->used)
		fuzz_fail("queue %u: only some rings mapped", vq->index);
	fuzz_check_range(vq->mem, vq->desc, vring_desc_bytes(vq->num),
			 "descriptor table");
	fuzz_check_range(vq->mem, vq->avail, vring_avail_bytes(vq->num),
			 "avail ring");
	fuzz_check_range(vq->mem, vq->used, vring_used_bytes(vq->num),
			 "used ring");
}

/**
 * fuzz_check_chain() - a popped chain is what vq_pop() promises
 * @mem:	guest memory
 * @ch:		the chain
 * @iov:	the array vq_pop() was given
 * @cap:	its size
 *
 * Every iovec is non-empty and inside one region, the lengths add up, and
 * the first and last byte of each can be read (and written, for the
 * writable part); with the guard pages a wrong pointer faults here.
 */
void fuzz_check_chain(const struct guest_mem *mem, const struct vq_chain *ch,
		      const struct iovec *iov, unsigned int cap)
{
	uint64_t out = 0, in = 0;

	if (ch->iov != iov || ch->n_out + ch->n_in > cap)
		fuzz_fail("chain of %u+%u iovecs for %u slots", ch->n_out,
			  ch->n_in, cap);
	for (unsigned int i = 0; i < ch->n_out + ch->n_in; i++) {
		volatile uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		if (len == 0)
			fuzz_fail("chain %u: empty iovec %u", ch->head, i);
		fuzz_check_range(mem, iov[i].iov_base, len, "iovec");
		if (i < ch->n_out) {
			out += len;
			(void)p[0];
			(void)p[len - 1];
		} else {
			in += len;
			p[0] = p[0];
			p[len - 1] = 0xa5;
		}
	}
	if (out != ch->out_len || in != ch->in_len)
		fuzz_fail("chain %u: lengths %u/%u, iovecs add up to %llu/%llu",
			  ch->head, ch->out_len, ch->in_len,
			  (unsigned long long)out, (unsigned long long)in);
}
