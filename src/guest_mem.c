/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest_mem.c - map the frontend's memory regions and translate addresses
 * into them, refusing any range that is not wholly inside one region.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_mem.h"
#include "iov.h"
#include "log.h"

void guest_mem_init(struct guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

static void region_release(struct guest_region *g)
{
	if (g->map)
		munmap(g->map, g->map_len);
	if (g->fd >= 0)
		close(g->fd);
	memset(g, 0, sizeof(*g));
	g->fd = -1;
}

/** guest_mem_clear() - unmap every region and close its fd */
void guest_mem_clear(struct guest_mem *mem)
{
	for (unsigned int i = 0; i < mem->count; i++)
		region_release(&mem->regions[i]);
	mem->count = 0;
	mem->last_hit = 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * region_valid() - sizes and addresses that cannot wrap or overlap
 */
static bool region_valid(const struct guest_mem *mem,
			 const struct vhost_user_mem_region *r)
{
	if (r->memory_size == 0 || r->memory_size > SIZE_MAX / 2) {
		log_error("memory region: bad size %#llx",
			  (unsigned long long)r->memory_size);
		return false;
	}
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->userspace_addr + r->memory_size < r->userspace_addr ||
	    r->mmap_offset + r->memory_size < r->mmap_offset ||
	    r->mmap_offset > SIZE_MAX / 2) {
		log_error("memory region gpa %#llx size %#llx: addresses wrap",
			  (unsigned long long)r->guest_phys_addr,
			  (unsigned long long)r->memory_size);
		return false;
	}
	for (unsigned int i = 0; i < mem->count; i++) {
		const struct guest_region *g = &mem->regions[i];

		if (ranges_overlap(g->gpa, g->size, r->guest_phys_addr,
				   r->memory_size)) {
			log_error("memory region gpa %#llx size %#llx overlaps "
				  "gpa %#llx size %#llx",
				  (unsigned long long)r->guest_phys_addr,
				  (unsigned long long)r->memory_size,
				  (unsigned long long)g->gpa,
				  (unsigned long long)g->size);
			return false;
		}
	}
	return true;
}

/**
 * guest_mem_add() - map one region
 * @mem:	the table
 * @r:		as the frontend described it
 * @fd:		its memory; owned by @mem from now on, closed on failure
 *
 * Return: 0, or -1 after logging why
 */
int guest_mem_add(struct guest_mem *mem, const struct vhost_user_mem_region *r,
		  int fd)
{
	struct guest_region *g;
	struct stat st;
	size_t len;
	void *map;

	if (mem->count >= GUEST_MEM_MAX_SLOTS) {
		log_error("memory region: all %d slots in use",
			  GUEST_MEM_MAX_SLOTS);
		goto fail;
	}
	if (!region_valid(mem, r))
		goto fail;
	len = (size_t)(r->mmap_offset + r->memory_size);
	/* Pages past the end of a file fault with SIGBUS when touched. */
	if (fstat(fd, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < (uint64_t)len) {
		log_error("memory region gpa %#llx: offset %#llx + size %#llx "
			  "runs past the end of its file (%lld bytes)",
			  (unsigned long long)r->guest_phys_addr,
			  (unsigned long long)r->mmap_offset,
			  (unsigned long long)r->memory_size,
			  (long long)st.st_size);
		goto fail;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (map == MAP_FAILED) {
		log_error("memory region gpa %#llx size %#llx offset %#llx: "
			  "mmap: %s",
			  (unsigned long long)r->guest_phys_addr,
			  (unsigned long long)r->memory_size,
			  (unsigned long long)r->mmap_offset, strerror(errno));
		goto fail;
	}
	g = &mem->regions[mem->count++];
	g->gpa = r->guest_phys_addr;
	g->size = r->memory_size;
	g->uva = r->userspace_addr;
	g->offset = r->mmap_offset;
	g->map = map;
	g->map_len = len;
	g->host = (uint8_t *)map + r->mmap_offset;
	g->fd = fd;
	/* hugetlbfs reports its page size here; a fault covers a page. */
	g->page =
		st.st_blksize >= 4096 && !(st.st_blksize & (st.st_blksize - 1))
			? (size_t)st.st_blksize
			: 4096;
	log_debug("memory region gpa %#llx size %#llx uva %#llx offset %#llx",
		  (unsigned long long)g->gpa, (unsigned long long)g->size,
		  (unsigned long long)g->uva, (unsigned long long)g->offset);
	return 0;
fail:
	close(fd);
	return -1;
}

/**
 * guest_mem_remove() - unmap the region matching @r's gpa, size and uva
 *
 * Return: 0, or -1 if no region matches
 */
int guest_mem_remove(struct guest_mem *mem,
		     const struct vhost_user_mem_region *r)
{
	for (unsigned int i = 0; i < mem->count; i++) {
		struct guest_region *g = &mem->regions[i];

		if (g->gpa != r->guest_phys_addr || g->size != r->memory_size ||
		    g->uva != r->userspace_addr)
			continue;
		region_release(g);
		mem->regions[i] = mem->regions[--mem->count];
		mem->last_hit = 0;
		return 0;
	}
	log_error("remove memory region gpa %#llx size %#llx: no such region",
		  (unsigned long long)r->guest_phys_addr,
		  (unsigned long long)r->memory_size);
	return -1;
}

/* Is [addr, addr+len) inside [start, start+size)? Written not to wrap. */
static bool inside(uint64_t addr, uint64_t len, uint64_t start, uint64_t size)
{
	return addr >= start && addr - start <= size &&
	       len <= size - (addr - start);
}

/**
 * guest_mem_gpa() - host pointer for guest-physical [gpa, gpa+len)
 *
 * Return: the pointer, or NULL if the range is not inside one region
 */
void *guest_mem_gpa(struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	struct guest_region *g;

	if (mem->last_hit < mem->count) {
		g = &mem->regions[mem->last_hit];
		if (inside(gpa, len, g->gpa, g->size))
			return g->host + (gpa - g->gpa);
	}
	for (unsigned int i = 0; i < mem->count; i++) {
		g = &mem->regions[i];
		if (inside(gpa, len, g->gpa, g->size)) {
			mem->last_hit = i;
			return g->host + (gpa - g->gpa);
		}
	}
	return NULL;
}

/**
 * guest_mem_uva() - host pointer for frontend-virtual [uva, uva+len)
 *
 * Return: the pointer, or NULL if the range is not inside one region
 */
void *guest_mem_uva(struct guest_mem *mem, uint64_t uva, uint64_t len)
{
	for (unsigned int i = 0; i < mem->count; i++) {
		struct guest_region *g = &mem->regions[i];

		if (inside(uva, len, g->uva, g->size))
			return g->host + (uva - g->uva);
	}
	return NULL;
}

/*
 * The SIGBUS guard.
 *
 * A frontend can shrink a file after sharing it; touching a mapped page
 * past the new end of the file raises SIGBUS. Rather than die, the worker
 * puts an anonymous page where the faulting one was (the guest's data
 * there is gone anyway), notes the fault, and returns to the access; the
 * protocol layer then ends the session. A fault anywhere else keeps its
 * default action.
 */
static struct guest_mem *guarded;
static volatile sig_atomic_t fault_seen;

/* The page size of the guest mapping holding @addr, or 0 if none does. */
static size_t guest_page_at(uintptr_t addr)
{
	for (unsigned int i = 0; guarded && i < guarded->count; i++) {
		uintptr_t start = (uintptr_t)guarded->regions[i].map;

		if (addr >= start && addr - start < guarded->regions[i].map_len)
			return guarded->regions[i].page;
	}
	return 0;
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	size_t size = guest_page_at((uintptr_t)si->si_addr);
	char *page = (char *)si->si_addr -
		     ((uintptr_t)si->si_addr & (uintptr_t)(size - 1));

	(void)ctx;
	if (!size || mmap(page, size, PROT_READ | PROT_WRITE,
			  MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1,
			  0) == MAP_FAILED) {
		signal(sig, SIG_DFL);
		return; /* the access faults again, now fatally */
	}
	fault_seen = 1;
}

/**
 * guest_mem_guard() - survive SIGBUS from @mem's mappings
 *
 * Return: 0, or -1 if the handler cannot be installed
 */
int guest_mem_guard(struct guest_mem *mem)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	guarded = mem;
	return sigaction(SIGBUS, &sa, NULL);
}

/** guest_mem_note_fault() - a system call got EFAULT on guest memory */
void guest_mem_note_fault(void)
{
	fault_seen = 1;
}

/** guest_mem_fault_pending() - did a guest mapping fault? (kept) */
bool guest_mem_fault_pending(void)
{
	return fault_seen;
}

/**
 * guest_mem_copy_out() - copy guest memory @iov[0..n) into @buf
 * @cap:	room in @buf
 * @len:	receives the bytes copied
 *
 * Return: true, or false if guest memory has faulted (this copy or an
 * earlier one not yet acted on): a page that was gone reads as zeros,
 * which must reach nobody
 */
bool guest_mem_copy_out(const struct iovec *iov, unsigned int n, void *buf,
			size_t cap, size_t *len)
{
	*len = iov_to_buf(iov, n, buf, cap);
	return !fault_seen;
}

/** guest_mem_fault_taken() - did a guest mapping fault? (clears it) */
bool guest_mem_fault_taken(void)
{
	bool seen = fault_seen;

	fault_seen = 0;
	return seen;
}
