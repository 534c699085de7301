/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * version.c - the version string, from the build: the Makefile passes
 * VDC_VERSION (VERSION, plus "+git.<describe>" in a git checkout) to this
 * file alone, and rebuilds it when the string changes.
 */
#include "version.h"

#ifndef VDC_VERSION
#define VDC_VERSION "unknown" /* a build that did not say (fuzz, bench) */
#endif

const char program_version[] = VDC_VERSION;
