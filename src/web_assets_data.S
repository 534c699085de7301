/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * web_assets_data.S - the bytes of the files under web/, assembled into
 * the daemon (see include/web_assets.h). Each file gets a start symbol and
 * a 64-bit length, so C never subtracts pointers to different objects.
 * The Makefile lists these files as prerequisites; .incbin paths are
 * relative to the top of the tree, where make runs.
 */
#define ASSET(sym, file)                                                       \
	.section .rodata.web_assets, "a", @progbits;                           \
	.balign 16;                                                            \
	.globl sym;                                                            \
	.type sym, @object;                                                    \
sym:                                                                           \
	.incbin file;                                                          \
sym##_end:                                                                     \
	.size sym, sym##_end - sym;                                            \
	.balign 8;                                                             \
	.globl sym##_len;                                                      \
	.type sym##_len, @object;                                              \
sym##_len:                                                                     \
	.quad sym##_end - sym;                                                 \
	.size sym##_len, 8

ASSET(web_asset_index_html, "web/index.html")
ASSET(web_asset_console_js, "web/console.js")
ASSET(web_asset_console_css, "web/console.css")
ASSET(web_asset_favicon_svg, "web/favicon.svg")
ASSET(web_asset_xterm_js, "web/vendor/xterm.js")
ASSET(web_asset_xterm_css, "web/vendor/xterm.css")
ASSET(web_asset_addon_fit_js, "web/vendor/addon-fit.js")
ASSET(web_asset_xterm_license, "web/vendor/LICENSE-xterm")
ASSET(web_asset_addon_fit_license, "web/vendor/LICENSE-addon-fit")

	.section .note.GNU-stack, "", @progbits
