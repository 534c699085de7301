/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * base64.h - RFC 4648 base64: the standard alphabet with padding (the
 * WebSocket handshake's keys), and the URL-safe alphabet without padding
 * (the web console's token, which must survive being pasted anywhere).
 */
#ifndef VDC_BASE64_H
#define VDC_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum base64_alphabet {
	BASE64_STD, /* A-Z a-z 0-9 + /, padded with '=' */
	BASE64_URL, /* A-Z a-z 0-9 - _, no padding */
};

/* Characters base64_encode() writes for @n bytes, not counting the NUL. */
#define BASE64_STD_LEN(n) ((((n) + 2) / 3) * 4)
#define BASE64_URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

size_t base64_encode(enum base64_alphabet alpha, const uint8_t *in, size_t len,
		     char *out, size_t outcap);
ssize_t base64_decode(enum base64_alphabet alpha, const char *in, size_t len,
		      uint8_t *out, size_t outcap);

#endif
