/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * iov.h - copying between flat buffers and scattered iovecs.
 */
#ifndef VDC_IOV_H
#define VDC_IOV_H

#include <stddef.h>
#include <sys/uio.h>

size_t iov_from_buf(const struct iovec *iov, unsigned int n, const void *buf,
		    size_t len);
size_t iov_to_buf(const struct iovec *iov, unsigned int n, void *buf,
		  size_t len);

#endif
