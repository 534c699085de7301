/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * supervisor.h - the parent process: create every listening socket, fork
 * one worker per socket index, restart the ones that die, pass signals on.
 */
#ifndef VDC_SUPERVISOR_H
#define VDC_SUPERVISOR_H

#include "options.h"

int supervisor_run(const struct options *opts);

#endif
