/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * check_main.c - run every suite; `make check` runs this under ASan and
 * UBSan. Give suite names as arguments to run only those; `--unit` runs
 * the unit suites: every suite but the ones below (full_only) that need
 * guests, a browser, root or a build of their own; `--list-unit` names
 * them, one a line, for `make check-unit` (tests/run-unit.sh).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/* One suite a line reads best as a table. */
/* clang-format off */
static const struct {
	const char *name;
	Suite *(*make)(void);
} all_suites[] = {
	{"options", options_suite},
	{"process", process_suite},
	{"vhost_user", vhost_user_suite},
	{"bad_input", bad_input_suite},
	{"console", console_suite},
	{"reliability", reliability_suite},
	{"ports", ports_suite},
	{"watchers", watchers_suite},
	{"log_file", log_file_suite},
	{"web", web_suite},
	{"console_size", console_size_suite},
	{"console_log", console_log_suite},
	{"console_log_uid", console_log_uid_suite},
	{"nested", nested_suite},
	{"install", install_suite},
	{"e2e", e2e_suite},
	{"web_token", web_token_suite},
	{"web_conn", web_conn_suite},
	{"sha256", sha256_suite},
	{"web_guess", web_guess_suite},
	{"web_ticket", web_ticket_suite},
	{"web_origin", web_origin_suite},
	{"web_room", web_room_suite},
	{"status", status_suite},
	{"systemd", systemd_suite},
	{"access", access_suite},
};
/* clang-format on */

/*
 * Not in `--unit`: real guests and chromium (e2e), `make install`
 * (install), root to become uid 65534 (access, console_log_uid).
 */
static const char *const full_only[] = {"install", "e2e", "access",
					"console_log_uid"};

static bool is_unit(const char *name)
{
	for (size_t i = 0; i < sizeof(full_only) / sizeof(full_only[0]); i++)
		if (strcmp(name, full_only[i]) == 0)
			return false;
	return true;
}

int main(int argc, char *argv[])
{
	bool unit = argc == 2 && strcmp(argv[1], "--unit") == 0;
	bool list = argc == 2 && strcmp(argv[1], "--list-unit") == 0;
	SRunner *sr = NULL;
	int failed;

	/* tests/run-unit.sh runs each of these as a process of its own. */
	if (list) {
		for (size_t i = 0;
		     i < sizeof(all_suites) / sizeof(all_suites[0]); i++)
			if (is_unit(all_suites[i].name))
				puts(all_suites[i].name);
		return EXIT_SUCCESS;
	}

	for (size_t i = 0; i < sizeof(all_suites) / sizeof(all_suites[0]);
	     i++) {
		bool wanted = unit ? is_unit(all_suites[i].name) : argc < 2;

		for (int a = 1; a < argc && !unit; a++)
			wanted |= strcmp(argv[a], all_suites[i].name) == 0;
		if (!wanted)
			continue;
		if (!sr)
			sr = srunner_create(all_suites[i].make());
		else
			srunner_add_suite(sr, all_suites[i].make());
	}
	if (!sr)
		return EXIT_FAILURE;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
