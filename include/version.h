/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * version.h - the program's version: the VERSION file at the top of the
 * tree, and in a git checkout what `git describe` says of the commit
 * (NEWS.md says what each version brought).
 */
#ifndef VDC_VERSION_H
#define VDC_VERSION_H

extern const char program_version[];

#endif
