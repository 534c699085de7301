/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * daemon_shm.c - map the memory the supervisor shares with its workers.
 *
 * A memfd rather than an anonymous mapping: the same memory can be passed
 * to a process that did not fork from us (an exec'd successor) by its fd.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon_shm.h"

size_t daemon_shm_size(unsigned int guests)
{
	size_t len = sizeof(struct daemon_shm) +
		     (size_t)guests * sizeof(struct guest_stats);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

struct daemon_shm *daemon_shm_create(unsigned int guests, char *err,
				     size_t errlen)
{
	size_t len = daemon_shm_size(guests);
	struct daemon_shm *shm;
	int fd = memfd_create("vdc-shared", MFD_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot create shared memory: %s",
			 strerror(errno));
		return NULL;
	}
	if (ftruncate(fd, (off_t)len) < 0) {
		snprintf(err, errlen, "cannot size shared memory (%zu bytes): %s",
			 len, strerror(errno));
		close(fd);
		return NULL;
	}
	shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (shm == MAP_FAILED) {
		snprintf(err, errlen, "cannot map shared memory: %s",
			 strerror(errno));
		return NULL;
	}
	shm->magic = DAEMON_SHM_MAGIC;
	shm->layout = DAEMON_SHM_LAYOUT;
	shm->guests = guests;
	errno = web_guess_init(&shm->guesses);
	if (errno) {
		snprintf(err, errlen, "cannot set up the web guess table: %s",
			 strerror(errno));
		munmap(shm, len);
		return NULL;
	}
	return shm;
}

void daemon_shm_destroy(struct daemon_shm *shm, unsigned int guests)
{
	if (shm)
		munmap(shm, daemon_shm_size(guests));
}
