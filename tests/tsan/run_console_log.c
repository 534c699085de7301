/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * run_console_log.c - the console log suite alone, for `make check-tsan`:
 * the one module with a thread, built with ThreadSanitizer without the
 * rest of the daemon (whose ring fences ThreadSanitizer does not model).
 */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(console_log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
