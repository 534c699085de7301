/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_options.c - every command-line rule, valid and invalid, through the
 * real binary: the exit status and the one line it prints.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "suites.h"

static struct run_result res;

/* Run with @args; expect exit 1 and exactly one stderr line with @msg. */
static void expect_rejected(const char *const args[], const char *msg)
{
	char *nl;

	run_daemon(args, 5000, &res);
	ck_assert_msg(WIFEXITED(res.status), "daemon did not exit");
	ck_assert_int_eq(WEXITSTATUS(res.status), 1);
	ck_assert_msg(strstr(res.err, msg) != NULL, "stderr '%s' lacks '%s'",
		      res.err, msg);
	ck_assert_msg(strncmp(res.err, "vhost-device-console: ", 22) == 0,
		      "stderr '%s' does not name the program", res.err);
	nl = strchr(res.err, '\n');
	ck_assert_msg(nl && nl[1] == '\0', "not one line: '%s'", res.err);
	ck_assert_str_eq(res.out, "");
}

START_TEST(test_web_origin_must_be_an_origin)
{
	const char *a[] = {"-s", "/tmp/x", "--web-port=8000",
			   "--web-origin=https://vmm.example.com/console", NULL};
	const char *b[] = {"-s", "/tmp/x", "--web-port=8000",
			   "--web-frame-ancestors=tool.example", NULL};
	const char *c[] = {"-s", "/tmp/x",
			   "--web-origin=https://vmm.example.com", NULL};

	expect_rejected(a, "--web-origin: 'https://vmm.example.com/console' is not an origin");
	expect_rejected(b, "--web-frame-ancestors: 'tool.example' is not an origin");
	expect_rejected(c, "only the web console uses them (--web-port)");
}
END_TEST

START_TEST(test_missing_socket_path)
{
	const char *a[] = {NULL};
	expect_rejected(a, "--socket-path: is required");
}
END_TEST

START_TEST(test_socket_count_zero)
{
	const char *a[] = {"-s", "/tmp/x", "--socket-count=0", NULL};
	expect_rejected(a, "--socket-count: 0 is out of range");
}
END_TEST

START_TEST(test_socket_count_not_numeric)
{
	const char *a[] = {"-s", "/tmp/x", "-c", "3x", NULL};
	expect_rejected(a, "--socket-count: '3x' is not a number");
}
END_TEST

START_TEST(test_socket_count_negative)
{
	const char *a[] = {"-s", "/tmp/x", "-c", "-1", NULL};
	expect_rejected(a, "--socket-count: '-1' is not a number");
}
END_TEST

START_TEST(test_socket_count_overflow)
{
	const char *a[] = {"-s", "/tmp/x", "-c", "99999999999999999999999",
			   NULL};
	expect_rejected(a, "--socket-count: 99999999999999999999999 is out of "
			   "range");
}
END_TEST

START_TEST(test_socket_count_past_u32)
{
	const char *a[] = {"-s", "/tmp/x",     "-b", "network",
			   "-c", "4294967296", NULL};
	expect_rejected(a, "--socket-count: 4294967296 is out of range");
}
END_TEST

START_TEST(test_unknown_backend)
{
	const char *a[] = {"-s", "/tmp/x", "--backend=serial", NULL};
	expect_rejected(a, "--backend: unknown backend 'serial'");
}
END_TEST

START_TEST(test_nested_with_count_above_one)
{
	const char *a[] = {"-s", "/tmp/x", "-c", "2", NULL};
	expect_rejected(a, "--backend: nested uses this terminal");
}
END_TEST

START_TEST(test_queue_size_not_power_of_two)
{
	const char *a[] = {"-s", "/tmp/x", "--max-queue-size=100", NULL};
	expect_rejected(a, "--max-queue-size: 100 is not a power of two");
}
END_TEST

START_TEST(test_queue_size_too_large)
{
	const char *a[] = {"-s", "/tmp/x", "-q", "65536", NULL};
	expect_rejected(a,
			"--max-queue-size: 65536 is out of range (1 to 32768)");
}
END_TEST

START_TEST(test_queue_size_zero)
{
	const char *a[] = {"-s", "/tmp/x", "-q", "0", NULL};
	expect_rejected(a, "--max-queue-size: 0 is out of range");
}
END_TEST

START_TEST(test_tcp_port_with_nested)
{
	const char *a[] = {"-s", "/tmp/x", "--tcp-port=2000", NULL};
	expect_rejected(a, "--tcp-port: only the network backend uses it");
}
END_TEST

START_TEST(test_tcp_port_with_uds)
{
	const char *a[] = {"-s", "/tmp/x", "-b", "uds", "--uds-path=/tmp/u",
			   "-p", "2000",   NULL};
	expect_rejected(a, "--tcp-port: only the network backend uses it");
}
END_TEST

START_TEST(test_uds_path_with_network)
{
	const char *a[] = {"-s", "/tmp/x", "-b", "network", "--uds-path=/tmp/u",
			   NULL};
	expect_rejected(a, "--uds-path: only the uds backend uses it");
}
END_TEST

START_TEST(test_uds_without_uds_path)
{
	const char *a[] = {"-s", "/tmp/x", "-b", "uds", NULL};
	expect_rejected(a, "--uds-path: is required with --backend=uds");
}
END_TEST

START_TEST(test_socket_path_ends_in_slash)
{
	const char *a[] = {"-s", "/tmp/", NULL};
	expect_rejected(a, "--socket-path: '/tmp/' ends in '/'");
}
END_TEST

START_TEST(test_uds_path_ends_in_slash)
{
	const char *a[] = {"-s", "/tmp/x", "-b", "uds", "--uds-path=/tmp/d/",
			   NULL};
	expect_rejected(a, "--uds-path: '/tmp/d/' ends in '/'");
}
END_TEST

START_TEST(test_socket_path_too_long_with_suffix)
{
	char path[120];
	const char *a[] = {"-s", path, NULL};

	/* 107 bytes fit sun_path; 107 plus the suffix "0" does not. */
	memset(path, 'a', 107);
	path[0] = '/';
	path[107] = '\0';
	expect_rejected(a, "longer than a unix socket address can hold");
}
END_TEST

START_TEST(test_socket_path_suffix_counts_digits)
{
	char path[120];
	const char *a[] = {"-s", path, "-b", "network", "-c", "11", NULL};

	/* 105 + "10" = 107 fits; 106 + "10" = 108 does not. */
	memset(path, 'a', 106);
	path[0] = '/';
	path[106] = '\0';
	expect_rejected(a, "longer than a unix socket address can hold");
}
END_TEST

START_TEST(test_uds_path_too_long)
{
	char path[120];
	const char *a[] = {"-s",	 "/tmp/x", "-b", "uds",
			   "--uds-path", path,	   NULL};

	memset(path, 'u', 110);
	path[110] = '\0';
	expect_rejected(a, "--uds-path: ");
}
END_TEST

START_TEST(test_port_range_past_65535)
{
	const char *a[] = {"-s",    "/tmp/x", "-b", "network", "-p",
			   "65535", "-c",     "2",  NULL};
	expect_rejected(a, "--tcp-port: ports 65535 to 65536 run past 65535");
}
END_TEST

START_TEST(test_port_zero)
{
	const char *a[] = {"-s", "/tmp/x", "-b", "network", "-p", "0", NULL};
	expect_rejected(a, "--tcp-port: 0 is out of range (1 to 65535)");
}
END_TEST

START_TEST(test_port_too_large)
{
	const char *a[] = {"-s", "/tmp/x", "-b", "network",
			   "-p", "70000",  NULL};
	expect_rejected(a, "--tcp-port: 70000 is out of range");
}
END_TEST

START_TEST(test_unknown_option)
{
	const char *a[] = {"-s", "/tmp/x", "--frobnicate", NULL};
	expect_rejected(a, "--frobnicate: unknown option");
}
END_TEST

START_TEST(test_missing_option_value)
{
	const char *a[] = {"--socket-path", NULL};
	expect_rejected(a, "--socket-path: needs a value");
}
END_TEST

START_TEST(test_stray_argument)
{
	const char *a[] = {"-s", "/tmp/x", "extra", NULL};
	expect_rejected(a, "unexpected argument 'extra'");
}
END_TEST

START_TEST(test_unknown_log_level)
{
	const char *a[] = {"-s", "/tmp/x", "--log-level=loud", NULL};
	expect_rejected(a, "--log-level: unknown level 'loud'");
}
END_TEST

START_TEST(test_output_buffer_too_small)
{
	const char *a[] = {"-s", "/tmp/x", "--output-buffer=100", NULL};
	expect_rejected(a, "--output-buffer: 100 bytes is too small");
}
END_TEST

START_TEST(test_output_buffer_too_large)
{
	const char *a[] = {"-s", "/tmp/x", "--output-buffer=2048M", NULL};
	expect_rejected(a, "--output-buffer: 2048 is out of range");
}
END_TEST

START_TEST(test_output_buffer_bad_suffix)
{
	const char *a[] = {"-s", "/tmp/x", "--output-buffer=4G", NULL};
	expect_rejected(a, "--output-buffer: '4G' is not a number");
}
END_TEST

START_TEST(test_console_size_malformed)
{
	static const char *const bad[] = {"80",	     "x24",    "80x",
					  "80x24x1", "-80x24", "80X24",
					  "80x 24",  " 80x24", "axb",
					  "",	     "80x+24"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char arg[64];
		const char *a[] = {"-s", "/tmp/x", "-b", "network", arg, NULL};

		snprintf(arg, sizeof(arg), "--console-size=%s", bad[i]);
		expect_rejected(a, "--console-size: '");
		ck_assert_msg(strstr(res.err,
				     "is not COLSxROWS (for example 80x24)"),
			      "%s", res.err);
	}
}
END_TEST

START_TEST(test_console_size_out_of_range)
{
	static const char *const bad[] = {"0x24", "80x0", "65536x24",
					  "80x99999999999999999999"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char arg[64];
		const char *a[] =
			{"-s", "/tmp/x", "-b", "uds", "--uds-path=/tmp/u",
			 arg,  NULL};

		snprintf(arg, sizeof(arg), "--console-size=%s", bad[i]);
		expect_rejected(a, "columns and rows must each be 1 to 65535");
	}
}
END_TEST

START_TEST(test_console_size_with_nested)
{
	const char *a[] = {"-s", "/tmp/x", "--console-size=80x24", NULL};
	expect_rejected(
		a,
		"--console-size: the nested backend tells the guest this terminal's size");
}
END_TEST

START_TEST(test_console_size_order_unknown)
{
	const char *a[] = {"-s", "/tmp/x", "--console-size-order=cols-first",
			   NULL};
	expect_rejected(
		a,
		"--console-size-order: unknown order 'cols-first' (spec or rows-first)");
}
END_TEST

START_TEST(test_console_log_format_unknown)
{
	const char *a[] = {"-s", "/tmp/x", "--console-log=/tmp/log-",
			   "--console-log-format=json", NULL};
	expect_rejected(
		a,
		"--console-log-format: unknown format 'json' (raw or asciicast)");
}
END_TEST

START_TEST(test_console_log_format_needs_a_log)
{
	const char *a[] = {"-s", "/tmp/x", "--console-log-format=raw", NULL};
	expect_rejected(a, "--console-log-format: needs --console-log");
}
END_TEST

START_TEST(test_asciicast_refuses_timestamps)
{
	const char *a[] = {"-s", "/tmp/x", "--console-log=/tmp/log-",
			   "--console-log-format=asciicast",
			   "--console-log-timestamps", NULL};
	expect_rejected(
		a,
		"--console-log-timestamps: only with --console-log-format=raw (an asciicast recording times each event itself)");
}
END_TEST

START_TEST(test_fd_with_socket_path)
{
	const char *a[] = {"-s", "/tmp/x", "--fd=3", NULL};
	expect_rejected(a, "--fd: cannot be combined with --socket-path");
}
END_TEST

START_TEST(test_fd_with_count)
{
	const char *a[] = {"--fd=3", "-b", "network", "-c", "2", NULL};
	expect_rejected(a, "--fd: serves one socket");
}
END_TEST

START_TEST(test_fd_not_open)
{
	const char *a[] = {"--fd=200", NULL};

	run_daemon(a, 5000, &res);
	ck_assert(WIFEXITED(res.status));
	ck_assert_int_eq(WEXITSTATUS(res.status), 1);
	ck_assert_msg(strstr(res.err,
			     "--fd: 200 is not an open file descriptor"),
		      "stderr: %s", res.err);
}
END_TEST

START_TEST(test_fd_not_a_socket)
{
	const char *a[] = {"--fd=0", NULL};

	run_daemon(a, 5000, &res);
	ck_assert(WIFEXITED(res.status));
	ck_assert_int_eq(WEXITSTATUS(res.status), 1);
	ck_assert_msg(strstr(res.err, "--fd: 0 is not a unix stream socket"),
		      "stderr: %s", res.err);
}
END_TEST

/* A port's name is unique in the guest: the console's own is taken. */
START_TEST(test_port_named_as_a_console)
{
	const char *one[] = {"-s", "/tmp/x", "-b", "network",
			     "--port=vhost-device-console.0:/tmp/p", NULL};
	const char *third[] = {"-s", "/tmp/x", "-b", "network", "-c", "3",
			       "--port=vhost-device-console.2:/tmp/p", NULL};
	const char *twice[] = {"-s", "/tmp/x", "-b", "network",
			       "--port=a:/tmp/p", "--port=a:/tmp/q", NULL};

	expect_rejected(one, "--port: the name 'vhost-device-console.0' is the console's (guest 0)");
	expect_rejected(third, "--port: the name 'vhost-device-console.2' is the console's (guest 2)");
	expect_rejected(twice, "--port: the name 'a' is given twice");
}
END_TEST

START_TEST(test_help)
{
	const char *a[] = {"--help", NULL};

	run_daemon(a, 5000, &res);
	ck_assert(WIFEXITED(res.status));
	ck_assert_int_eq(WEXITSTATUS(res.status), 0);
	ck_assert_str_eq(res.err, "");
	/* Every option the man page documents is in --help, too. */
	ck_assert_ptr_nonnull(strstr(res.out, "--socket-path=PATH"));
	ck_assert_ptr_nonnull(strstr(res.out, "--socket-count=N"));
	ck_assert_ptr_nonnull(strstr(res.out, "--backend=KIND"));
	ck_assert_ptr_nonnull(strstr(res.out, "--tcp-port=PORT"));
	ck_assert_ptr_nonnull(strstr(res.out, "--uds-path=PATH"));
	ck_assert_ptr_nonnull(strstr(res.out, "--max-queue-size=N"));
	ck_assert_ptr_nonnull(strstr(res.out, "--output-buffer=SIZE"));
	ck_assert_ptr_nonnull(strstr(res.out, "--log-level=LEVEL"));
	ck_assert_ptr_nonnull(strstr(res.out, "--fd=FD"));
	ck_assert_ptr_nonnull(strstr(res.out, "--print-capabilities"));
	ck_assert_ptr_nonnull(strstr(res.out, "--console-size=COLSxROWS"));
	ck_assert_ptr_nonnull(strstr(res.out, "--console-size-order=ORDER"));
	ck_assert_ptr_nonnull(strstr(res.out, "Ctrl-a x"));
}
END_TEST

/* The version is the VERSION file's, with what git says of the commit
 * after a '+' when built in a checkout. */
START_TEST(test_version)
{
	const char *a[] = {"-V", NULL};
	char path[512], want[128] = "vhost-device-console ";
	size_t len = strlen(want);
	FILE *f;

	snprintf(path, sizeof(path), "%s/VERSION", srcdir());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(want + len, (int)(sizeof(want) - len), f));
	fclose(f);
	want[strcspn(want, "\n")] = '\0';
	len = strlen(want);
	run_daemon(a, 5000, &res);
	ck_assert_int_eq(WEXITSTATUS(res.status), 0);
	ck_assert_msg(strncmp(res.out, want, len) == 0 &&
			      (res.out[len] == '\n' || res.out[len] == '+'),
		      "version: %s, VERSION: %s", res.out, want);
	ck_assert_ptr_eq(strchr(res.out, '\n'), res.out + strlen(res.out) - 1);
}
END_TEST

START_TEST(test_print_capabilities)
{
	const char *a[] = {"--print-capabilities", NULL};

	run_daemon(a, 5000, &res);
	ck_assert_int_eq(WEXITSTATUS(res.status), 0);
	ck_assert_str_eq(res.out, "{\n  \"type\": \"console\"\n}\n");
	ck_assert_str_eq(res.err, "");
}
END_TEST

static char *slurp(const char *rel)
{
	static char buf[2][65536];
	static int which;
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", srcdir(), rel);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	which ^= 1;
	n = fread(buf[which], 1, sizeof(buf[which]) - 1, f);
	buf[which][n] = '\0';
	fclose(f);
	return buf[which];
}

/* Every option --help lists is in the man page and the README too. */
START_TEST(test_help_man_page_and_readme_agree)
{
	static const char *const opts[] = {
		"socket-path",
		"socket-count",
		"backend",
		"tcp-port",
		"uds-path",
		"max-queue-size",
		"output-buffer",
		"log-level",
		"fd",
		"print-capabilities",
		"help",
		"version",
		"console-size",
		"console-size-order",
		"allow-user",
		"allow-group",
		"socket-group",
	};
	const char *a[] = {"--help", NULL};
	char *man, *readme;

	run_daemon(a, 5000, &res);
	man = slurp("docs/vhost-device-console.1");
	readme = slurp("README.md");
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char plain[64], roff[64];
		char *p = roff;

		snprintf(plain, sizeof(plain), "--%s", opts[i]);
		/* The man page escapes every '-' as "\-". */
		p += sprintf(p, "\\-\\-");
		for (const char *c = opts[i]; *c; c++)
			p += *c == '-' ? sprintf(p, "\\-")
				       : sprintf(p, "%c", *c);
		ck_assert_msg(strstr(res.out, plain), "--help lacks %s", plain);
		ck_assert_msg(strstr(man, roff), "man page lacks %s", plain);
		ck_assert_msg(strstr(readme, plain), "README lacks %s", plain);
	}
	ck_assert_ptr_nonnull(strstr(man, "Ctrl-a x"));
	ck_assert_ptr_nonnull(strstr(readme, "Ctrl-a x"));
	/* Where the size comes from, and what older guests need. */
	ck_assert_ptr_nonnull(strstr(res.out, "rows-first"));
	ck_assert_ptr_nonnull(strstr(man, "rows\\-first"));
	ck_assert_ptr_nonnull(strstr(readme, "rows-first"));
	ck_assert_ptr_nonnull(strstr(man, "SIGWINCH"));
	ck_assert_ptr_nonnull(strstr(readme, "SIGWINCH"));
}
END_TEST

/* Valid command lines: the daemon starts, serves its sockets, stops on
 * SIGTERM with status 0. */
static void expect_runs(const char *const args[], const char *const socks[])
{
	char dir[64];
	struct daemon_proc d;
	int status;

	make_tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(chdir(dir), 0);
	daemon_start(&d, dir, args);
	for (size_t i = 0; socks[i]; i++)
		ck_assert_msg(wait_for_socket(socks[i], 5000),
			      "%s never accepted; log:\n%s", socks[i],
			      daemon_log(&d));
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %#x; log:\n%s", status, daemon_log(&d));
	for (size_t i = 0; socks[i]; i++)
		ck_assert_msg(!path_exists(socks[i]), "%s left behind",
			      socks[i]);
	remove_tree(dir);
}

START_TEST(test_valid_defaults)
{
	const char *a[] = {"--socket-path=vu", NULL};
	const char *s[] = {"vu0", NULL};
	expect_runs(a, s);
}
END_TEST

START_TEST(test_valid_network_count_and_port)
{
	const char *a[] =
		{"-s",	  "vu", "-b",  "network",	    "-c", "2", "-p",
		 "23400", "-q", "256", "--log-level=debug", NULL};
	const char *s[] = {"vu0", "vu1", NULL};
	expect_runs(a, s);
}
END_TEST

START_TEST(test_valid_uds)
{
	const char *a[] = {"-s",
			   "vu",
			   "-b",
			   "uds",
			   "--uds-path=con",
			   "--output-buffer=64K",
			   NULL};
	const char *s[] = {"vu0", "con0", NULL};
	expect_runs(a, s);
}
END_TEST

START_TEST(test_valid_console_size)
{
	const char *a[] = {"-s",
			   "vu",
			   "-b",
			   "uds",
			   "--uds-path=con",
			   "--console-size=65535x1",
			   "--console-size-order=rows-first",
			   NULL};
	const char *s[] = {"vu0", "con0", NULL};
	expect_runs(a, s);
}
END_TEST

START_TEST(test_valid_port_range_ends_at_65535)
{
	const char *a[] = {"-s",    "vu", "-b", "network", "-p",
			   "65534", "-c", "2",	NULL};
	const char *s[] = {"vu0", "vu1", NULL};
	expect_runs(a, s);
}
END_TEST

START_TEST(test_valid_fd)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[64], path[128], fdarg[32];
	struct daemon_proc d;
	int fd, status, c;
	const char *a[] = {fdarg, "-b", "network", "-p", "23410", NULL};

	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/given.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", fd);
	daemon_start(&d, dir, a);
	close(fd);
	/* The socket listens before the daemon runs: wait for its worker. */
	ck_assert(wait_for_child(d.pid, "vdc-worker-0", 0, 5000) != 0);
	c = connect_unix(path);
	ck_assert_int_ge(c, 0);
	close(c);
	status = daemon_stop(&d, SIGTERM, 5000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "log:\n%s",
		      daemon_log(&d));
	/* The socket was the caller's: it is not unlinked. */
	ck_assert(path_exists(path));
	remove_tree(dir);
}
END_TEST

/* --allow-user, --allow-group, --socket-group: a name must exist. */
START_TEST(test_allow_user_unknown_name)
{
	const char *a[] = {"-s", "/tmp/x", "--allow-user=no-such-user-here",
			   NULL};
	expect_rejected(a, "--allow-user: no user named 'no-such-user-here'");
}
END_TEST

START_TEST(test_allow_group_unknown_name)
{
	const char *a[] = {"-s", "/tmp/x", "--allow-group=no-such-group", NULL};
	expect_rejected(a, "--allow-group: no group named 'no-such-group'");
}
END_TEST

START_TEST(test_allow_user_id_out_of_range)
{
	const char *a[] = {"-s", "/tmp/x", "--allow-user=4294967295", NULL};
	expect_rejected(a, "--allow-user: user id 4294967295 is out of range");
}
END_TEST

START_TEST(test_socket_group_unknown_or_with_fd)
{
	const char *a[] = {"-s", "/tmp/x", "--socket-group=no-such-group",
			   NULL};
	const char *b[] = {"--fd=0", "--socket-group=0", NULL};

	expect_rejected(a, "--socket-group: no group named 'no-such-group'");
	expect_rejected(b, "--socket-group: the socket of --fd is made by whoever passes it");
}
END_TEST

Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *bad = tcase_create("rejected");
	TCase *good = tcase_create("accepted");

	tcase_add_test(bad, test_missing_socket_path);
	tcase_add_test(bad, test_web_origin_must_be_an_origin);
	tcase_add_test(bad, test_socket_count_zero);
	tcase_add_test(bad, test_socket_count_not_numeric);
	tcase_add_test(bad, test_socket_count_negative);
	tcase_add_test(bad, test_socket_count_overflow);
	tcase_add_test(bad, test_socket_count_past_u32);
	tcase_add_test(bad, test_unknown_backend);
	tcase_add_test(bad, test_nested_with_count_above_one);
	tcase_add_test(bad, test_queue_size_not_power_of_two);
	tcase_add_test(bad, test_queue_size_too_large);
	tcase_add_test(bad, test_queue_size_zero);
	tcase_add_test(bad, test_tcp_port_with_nested);
	tcase_add_test(bad, test_tcp_port_with_uds);
	tcase_add_test(bad, test_uds_path_with_network);
	tcase_add_test(bad, test_uds_without_uds_path);
	tcase_add_test(bad, test_socket_path_ends_in_slash);
	tcase_add_test(bad, test_uds_path_ends_in_slash);
	tcase_add_test(bad, test_socket_path_too_long_with_suffix);
	tcase_add_test(bad, test_socket_path_suffix_counts_digits);
	tcase_add_test(bad, test_uds_path_too_long);
	tcase_add_test(bad, test_port_range_past_65535);
	tcase_add_test(bad, test_port_zero);
	tcase_add_test(bad, test_port_too_large);
	tcase_add_test(bad, test_unknown_option);
	tcase_add_test(bad, test_missing_option_value);
	tcase_add_test(bad, test_stray_argument);
	tcase_add_test(bad, test_unknown_log_level);
	tcase_add_test(bad, test_output_buffer_too_small);
	tcase_add_test(bad, test_output_buffer_too_large);
	tcase_add_test(bad, test_output_buffer_bad_suffix);
	tcase_add_test(bad, test_console_size_malformed);
	tcase_add_test(bad, test_console_size_out_of_range);
	tcase_add_test(bad, test_port_named_as_a_console);
	tcase_add_test(bad, test_console_size_with_nested);
	tcase_add_test(bad, test_console_size_order_unknown);
	tcase_add_test(bad, test_console_log_format_unknown);
	tcase_add_test(bad, test_console_log_format_needs_a_log);
	tcase_add_test(bad, test_asciicast_refuses_timestamps);
	tcase_add_test(bad, test_fd_with_socket_path);
	tcase_add_test(bad, test_fd_with_count);
	tcase_add_test(bad, test_fd_not_open);
	tcase_add_test(bad, test_fd_not_a_socket);
	tcase_add_test(bad, test_allow_user_unknown_name);
	tcase_add_test(bad, test_allow_group_unknown_name);
	tcase_add_test(bad, test_allow_user_id_out_of_range);
	tcase_add_test(bad, test_socket_group_unknown_or_with_fd);
	suite_add_tcase(s, bad);

	tcase_set_timeout(good, 30);
	tcase_add_test(good, test_help);
	tcase_add_test(good, test_version);
	tcase_add_test(good, test_help_man_page_and_readme_agree);
	tcase_add_test(good, test_print_capabilities);
	tcase_add_test(good, test_valid_defaults);
	tcase_add_test(good, test_valid_network_count_and_port);
	tcase_add_test(good, test_valid_uds);
	tcase_add_test(good, test_valid_console_size);
	tcase_add_test(good, test_valid_port_range_ends_at_65535);
	tcase_add_test(good, test_valid_fd);
	suite_add_tcase(s, good);
	return s;
}
