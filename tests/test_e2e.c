/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_e2e.c - the end-to-end tests: a real Linux guest whose
 * virtio_console driver talks to the daemon, and a person's client on each
 * backend. The guest is a User Mode Linux kernel (TCase "uml") or a QEMU
 * virtual machine (TCase "qemu"). The scenarios are shell scripts in
 * tests/e2e/; each exits 0 on success and 77 when Debian's archive cannot
 * be reached to fetch the guest (or, for the browser test, when chromium or
 * the npm registry cannot be had), which is reported loudly and not counted
 * as a failure.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "helpers.h"
#include "suites.h"

#define E2E_SKIP 77

/* name: the script and its arguments, e.g. "e2e-qemu.sh network". */
static void run_script(const char *name)
{
	char cmd[1024];
	int status, code;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && VDC_DAEMON='%s' bash tests/e2e/%s", srcdir(),
		 daemon_path(), name);
	fprintf(stderr, "e2e: %s\n", name);
	status = system(cmd);
	ck_assert_msg(status != -1 && WIFEXITED(status), "cannot run %s", name);
	code = WEXITSTATUS(status);
	if (code == E2E_SKIP) {
		fprintf(stderr,
			"\n*** SKIPPED %s: its guest (User Mode Linux or QEMU), "
			"or for the browser test chromium or puppeteer-core, "
			"is not available (see its output above) ***\n\n",
			name);
		return;
	}
	ck_assert_msg(code == 0, "%s failed with status %d (output above)",
		      name, code);
}

START_TEST(test_uml_network_backend)
{
	run_script("e2e-network.sh");
}
END_TEST

START_TEST(test_uml_uds_backend)
{
	run_script("e2e-uds.sh");
}
END_TEST

START_TEST(test_uml_nested_backend)
{
	run_script("e2e-nested.sh");
}
END_TEST

START_TEST(test_uml_two_guests)
{
	run_script("e2e-multi.sh");
}
END_TEST

START_TEST(test_uml_console_size)
{
	run_script("e2e-size.sh");
}
END_TEST

START_TEST(test_uml_console_log_and_watchers)
{
	run_script("e2e-watchers.sh uds");
}
END_TEST

/* status and --metrics-port with a guest, a writer and a stopped watcher. */
START_TEST(test_uml_status_and_metrics)
{
	run_script("e2e-status.sh");
}
END_TEST

/*
 * --console-log-format=asciicast: `asciinema cat` gives back what a client
 * received, `asciinema play` runs to the end, SIGUSR1 starts a new
 * recording, a resize is an "r" event.
 */
START_TEST(test_uml_asciicast_recording)
{
	run_script("e2e-recording.sh");
}
END_TEST

/*
 * The web console in Debian's chromium (puppeteer-core), one UML guest:
 * wrong token, a typed command, resize, a foreign Origin, nginx with TLS.
 */
START_TEST(test_uml_web_console_in_a_browser)
{
	run_script("e2e-browser.sh");
}
END_TEST

START_TEST(test_make_demo_script)
{
	run_script("e2e-demo.sh");
}
END_TEST

START_TEST(test_uml_named_ports)
{
	run_script("e2e-ports.sh uml");
}
END_TEST

START_TEST(test_uml_systemd_socket_activation)
{
	run_script("e2e-systemd.sh");
}
END_TEST

START_TEST(test_qemu_network_backend)
{
	run_script("e2e-qemu.sh network");
}
END_TEST

START_TEST(test_qemu_uds_backend)
{
	run_script("e2e-qemu.sh uds");
}
END_TEST

START_TEST(test_qemu_two_guests)
{
	run_script("e2e-multi.sh --frontend=qemu");
}
END_TEST

START_TEST(test_qemu_named_ports)
{
	run_script("e2e-ports.sh qemu");
}
END_TEST

Suite *e2e_suite(void)
{
	Suite *su = suite_create("e2e");
	TCase *tc = tcase_create("uml");
	TCase *qemu = tcase_create("qemu");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_uml_network_backend);
	tcase_add_test(tc, test_uml_uds_backend);
	tcase_add_test(tc, test_uml_nested_backend);
	tcase_add_test(tc, test_uml_two_guests);
	tcase_add_test(tc, test_uml_console_size);
	tcase_add_test(tc, test_uml_console_log_and_watchers);
	tcase_add_test(tc, test_uml_asciicast_recording);
	tcase_add_test(tc, test_uml_web_console_in_a_browser);
	tcase_add_test(tc, test_make_demo_script);
	tcase_add_test(tc, test_uml_named_ports);
	tcase_add_test(tc, test_uml_status_and_metrics);
	tcase_add_test(tc, test_uml_systemd_socket_activation);
	suite_add_tcase(su, tc);

	/* Under TCG a boot takes 8-13 s; e2e-qemu.sh boots four guests. */
	tcase_set_timeout(qemu, 400);
	tcase_add_test(qemu, test_qemu_network_backend);
	tcase_add_test(qemu, test_qemu_uds_backend);
	tcase_add_test(qemu, test_qemu_two_guests);
	tcase_add_test(qemu, test_qemu_named_ports);
	suite_add_tcase(su, qemu);
	return su;
}
