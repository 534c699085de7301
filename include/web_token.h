/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_token.h - the web console's secret: a token kept in a file only the
 * daemon's user can read, which the browser page must prove it knows (an
 * HMAC over fresh nonces, web_conn.h) before it sees or types anything.
 *
 * A token the daemon creates is 256 bits from getrandom(), written as 43
 * base64url characters and a newline, in a new file of mode 0600. A token
 * somebody wrote by hand may be any 32 to 256 characters of [0-9A-Za-z_-]
 * (hex or base64url text): 32 such characters carry at least 128 bits when
 * they are random. The file is refused, with one line saying why, if it is
 * not a regular file of ours, if group or others have any access to it, or
 * if its token is too short or has other characters.
 */
#ifndef VDC_WEB_TOKEN_H
#define VDC_WEB_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_TOKEN_RANDOM_BYTES 32 /* in a token the daemon creates */
#define WEB_TOKEN_MIN_LEN      32 /* characters */
#define WEB_TOKEN_MAX_LEN      256
#define WEB_TOKEN_ERR_LEN      512

struct web_token {
	char text[WEB_TOKEN_MAX_LEN + 1];
	size_t len;
};

int web_token_load(const char *path, struct web_token *tok, bool *created,
		   char *err, size_t errlen);
int web_token_generate(struct web_token *tok, char *err, size_t errlen);
void web_token_wipe(struct web_token *tok);

#endif
