/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * main.c - vhost-device-console: parse the command line, then supervise.
 */
#include <stdlib.h>

#include "log.h"
#include "options.h"
#include "supervisor.h"

int main(int argc, char *argv[])
{
	struct options opts;

	switch (options_parse(argc, argv, &opts)) {
	case OPTIONS_EXIT_OK:
		return EXIT_SUCCESS;
	case OPTIONS_EXIT_FAIL:
		return EXIT_FAILURE;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(opts.log_level);
	log_open();
	return supervisor_run(&opts);
}
