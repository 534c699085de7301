/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_assets.c - which built-in file answers which URL path, and as what
 * Content-Type. The bytes themselves come from src/web_assets_data.S.
 */
#include <string.h>

#include "web_assets.h"

#define DECLARE(sym)                                                           \
	extern const uint8_t sym[];                                            \
	extern const uint64_t sym##_len

DECLARE(web_asset_index_html);
DECLARE(web_asset_console_js);
DECLARE(web_asset_console_css);
DECLARE(web_asset_favicon_svg);
DECLARE(web_asset_xterm_js);
DECLARE(web_asset_xterm_css);
DECLARE(web_asset_addon_fit_js);
DECLARE(web_asset_xterm_license);
DECLARE(web_asset_addon_fit_license);

#define HTML "text/html; charset=utf-8"
#define JS   "text/javascript; charset=utf-8"
#define CSS  "text/css; charset=utf-8"
#define TEXT "text/plain; charset=utf-8"
#define SVG  "image/svg+xml"

#define ASSET(p, type, sym)                                                    \
	{                                                                      \
		p, type, sym, &sym##_len                                       \
	}

const struct web_asset web_assets[] = {
	ASSET("/", HTML, web_asset_index_html),
	ASSET("/console.js", JS, web_asset_console_js),
	ASSET("/console.css", CSS, web_asset_console_css),
	ASSET("/favicon.svg", SVG, web_asset_favicon_svg),
	ASSET("/vendor/xterm.js", JS, web_asset_xterm_js),
	ASSET("/vendor/xterm.css", CSS, web_asset_xterm_css),
	ASSET("/vendor/addon-fit.js", JS, web_asset_addon_fit_js),
	ASSET("/vendor/LICENSE-xterm.txt", TEXT, web_asset_xterm_license),
	ASSET("/vendor/LICENSE-addon-fit.txt", TEXT,
	      web_asset_addon_fit_license),
};

const size_t web_assets_count = sizeof(web_assets) / sizeof(web_assets[0]);

/**
 * web_asset_find() - the asset served at a URL path
 * @path:	the request's path, not NUL-terminated
 * @len:	its length
 *
 * Return: the asset, or NULL if none has that exact path
 */
const struct web_asset *web_asset_find(const char *path, size_t len)
{
	for (size_t i = 0; i < web_assets_count; i++) {
		if (strlen(web_assets[i].path) == len &&
		    memcmp(web_assets[i].path, path, len) == 0)
			return &web_assets[i];
	}
	return NULL;
}
