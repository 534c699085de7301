/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * iov.c - copy into and out of iovec arrays, for the small messages the
 * data path does not send straight from guest memory.
 */
#include <stdint.h>
#include <string.h>

#include "iov.h"

/**
 * iov_from_buf() - copy up to @len bytes of @buf into @iov[0..n)
 *
 * Return: bytes copied (less than @len when the iovecs are shorter)
 */
size_t iov_from_buf(const struct iovec *iov, unsigned int n, const void *buf,
		    size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t k = len - done < iov[i].iov_len ? len - done
						       : iov[i].iov_len;

		memcpy(iov[i].iov_base, p + done, k);
		done += k;
	}
	return done;
}

/**
 * iov_to_buf() - copy up to @len bytes of @iov[0..n) into @buf
 *
 * Return: bytes copied (less than @len when the iovecs are shorter)
 */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, void *buf,
		  size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t k = len - done < iov[i].iov_len ? len - done
						       : iov[i].iov_len;

		memcpy(p + done, iov[i].iov_base, k);
		done += k;
	}
	return done;
}
