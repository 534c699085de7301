/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_assets.h - the web console's page and scripts, built into the
 * daemon so that it stays one file and works offline.
 *
 * The files under web/ are assembled into the binary with .incbin
 * (src/web_assets_data.S) when it is built; the table in src/web_assets.c
 * names each one's URL path and Content-Type.
 */
#ifndef VDC_WEB_ASSETS_H
#define VDC_WEB_ASSETS_H

#include <stddef.h>
#include <stdint.h>

struct web_asset {
	const char *path; /* URL path, from "/" */
	const char *content_type;
	const uint8_t *data;
	const uint64_t *size; /* set by the assembler; see web_asset_len() */
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

const struct web_asset *web_asset_find(const char *path, size_t len);

/* web_asset_len() - the asset's length in bytes */
static inline size_t web_asset_len(const struct web_asset *a)
{
	return (size_t)*a->size;
}

#endif
