/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * guest_mem.h - the guest's memory regions as shared by the frontend.
 *
 * Two address spaces lead into a region: guest-physical addresses (what
 * descriptors hold) and the frontend's own virtual addresses (what
 * SET_VRING_ADDR holds). A translation succeeds only when the whole range
 * lies inside one mapped region.
 */
#ifndef VDC_GUEST_MEM_H
#define VDC_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost_user_spec.h"

#define GUEST_MEM_MAX_SLOTS 32

struct guest_region {
	uint64_t gpa; /* guest-physical start */
	uint64_t size;
	uint64_t uva; /* frontend-virtual start */
	uint64_t offset; /* mmap offset into the fd */
	uint8_t *host; /* where gpa lands in this process */
	void *map; /* what munmap() takes */
	size_t map_len;
	size_t page; /* the backing file's page size */
	int fd;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_SLOTS];
	unsigned int count;
	unsigned int last_hit; /* translation cache: most hits repeat */
};

void guest_mem_init(struct guest_mem *mem);
void guest_mem_clear(struct guest_mem *mem);
int guest_mem_add(struct guest_mem *mem, const struct vhost_user_mem_region *r,
		  int fd);
int guest_mem_remove(struct guest_mem *mem,
		     const struct vhost_user_mem_region *r);
void *guest_mem_gpa(struct guest_mem *mem, uint64_t gpa, uint64_t len);
void *guest_mem_uva(struct guest_mem *mem, uint64_t uva, uint64_t len);
int guest_mem_guard(struct guest_mem *mem);
bool guest_mem_fault_taken(void);
void guest_mem_note_fault(void);
bool guest_mem_fault_pending(void);
bool guest_mem_copy_out(const struct iovec *iov, unsigned int n, void *buf,
			size_t cap, size_t *len);

#endif
