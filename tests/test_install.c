/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * test_install.c - `make install` into a DESTDIR: the binary, the man page
 * and QEMU's vhost-user backend descriptor (docs/interop/vhost-user.json
 * in QEMU), which must be valid JSON naming the installed binary; `make
 * uninstall` removes all three. The systemd units, installed with a real
 * PREFIX, pass `systemd-analyze verify` as an instance would load them.
 */
#include <check.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "suites.h"

#define BINDIR	   "/opt/vdc/bin"
#define DESCRIPTOR "/usr/share/qemu/vhost-user/50-vhost-device-console.json"

/*
 * A strict JSON reader, just enough to validate a document and pick out the
 * string members of its top-level object. It does not unescape strings: a
 * member with an escape in it is reported as found but empty.
 */
struct json {
	const char *p;
	int depth;
	/* top-level members asked for, and what was found */
	const char *const *keys;
	char (*values)[256];
	bool *found;
	size_t nkeys;
};

static bool json_value(struct json *j, const char *key);

static void json_space(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

/* Reads a string; copies it into @out (@len bytes) when it has no escape. */
static bool json_string(struct json *j, char *out, size_t len)
{
	const char *start;
	bool escaped = false;

	if (*j->p != '"')
		return false;
	start = ++j->p;
	while (*j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return false;
		if (*j->p == '\\') {
			escaped = true;
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)j->p[i]))
						return false;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				return false;
			}
		}
		j->p++;
	}
	if (out && len) {
		size_t n = (size_t)(j->p - start);

		out[0] = '\0';
		if (!escaped && n < len) {
			memcpy(out, start, n);
			out[n] = '\0';
		}
	}
	j->p++;
	return true;
}

static bool json_number(struct json *j)
{
	const char *start = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (isdigit((unsigned char)*j->p))
		while (isdigit((unsigned char)*j->p))
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!isdigit((unsigned char)*j->p))
			return false;
		while (isdigit((unsigned char)*j->p))
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!isdigit((unsigned char)*j->p))
			return false;
		while (isdigit((unsigned char)*j->p))
			j->p++;
	}
	return j->p > start;
}

static bool json_object(struct json *j)
{
	bool top = j->depth == 1;

	j->p++;
	json_space(j);
	if (*j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		char key[256];

		json_space(j);
		if (!json_string(j, key, sizeof(key)))
			return false;
		json_space(j);
		if (*j->p++ != ':')
			return false;
		json_space(j);
		if (!json_value(j, top ? key : NULL))
			return false;
		json_space(j);
		if (*j->p == '}') {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

static bool json_array(struct json *j)
{
	j->p++;
	json_space(j);
	if (*j->p == ']') {
		j->p++;
		return true;
	}
	for (;;) {
		json_space(j);
		if (!json_value(j, NULL))
			return false;
		json_space(j);
		if (*j->p == ']') {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

/* @key: the top-level member this value belongs to, or NULL. */
static bool json_value(struct json *j, const char *key)
{
	bool ok;

	if (++j->depth > 64)
		return false;
	if (*j->p == '{') {
		ok = json_object(j);
	} else if (*j->p == '[') {
		ok = json_array(j);
	} else if (*j->p == '"') {
		char *out = NULL;

		for (size_t i = 0; key && i < j->nkeys; i++)
			if (!strcmp(key, j->keys[i])) {
				ck_assert_msg(!j->found[i],
					      "member \"%s\" appears twice",
					      key);
				j->found[i] = true;
				out = j->values[i];
			}
		ok = json_string(j, out, out ? 256 : 0);
	} else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "null", 4)) {
		j->p += 4;
		ok = true;
	} else if (!strncmp(j->p, "false", 5)) {
		j->p += 5;
		ok = true;
	} else {
		ok = json_number(j);
	}
	j->depth--;
	return ok;
}

/* Validates @text as one JSON object; fills in the string members @keys. */
static bool json_parse_object(const char *text, const char *const *keys,
			      char (*values)[256], bool *found, size_t nkeys)
{
	struct json j = {text, 0, keys, values, found, nkeys};

	json_space(&j);
	if (*j.p != '{' || !json_value(&j, NULL))
		return false;
	json_space(&j);
	return *j.p == '\0';
}

static int run_make(const char *target, const char *destdir)
{
	char cmd[1024];
	int status;

	/* Not the jobserver or flags of a `make check` this runs under. */
	snprintf(cmd, sizeof(cmd),
		 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C '%s' %s "
		 "DESTDIR='%s' PREFIX=/usr BINDIR='" BINDIR "' >&2",
		 srcdir(), target, destdir);
	status = system(cmd);
	ck_assert_msg(status != -1 && WIFEXITED(status), "cannot run make %s",
		      target);
	return WEXITSTATUS(status);
}

static char *read_file(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s was not installed", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_install_writes_vhost_user_descriptor_naming_the_binary)
{
	static const char *const keys[] = {"description", "type", "binary"};
	char values[3][256];
	bool found[3] = {false, false, false};
	char dir[64], path[512], cmd[600];
	struct stat st;
	const char *json;

	make_tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(run_make("install", dir), 0);

	snprintf(path, sizeof(path), "%s" BINDIR "/vhost-device-console", dir);
	ck_assert_msg(stat(path, &st) == 0 && (st.st_mode & 0111),
		      "%s not installed as an executable", path);
	snprintf(path, sizeof(path), "%s/usr/share/man/man1/%s", dir,
		 "vhost-device-console.1");
	ck_assert_msg(path_exists(path), "%s not installed", path);

	snprintf(path, sizeof(path), "%s" DESCRIPTOR, dir);
	json = read_file(path);
	ck_assert_msg(json_parse_object(json, keys, values, found, 3),
		      "%s is not a valid JSON object:\n%s", path, json);
	ck_assert_msg(found[0] && values[0][0], "no description in %s", json);
	ck_assert_msg(found[1], "no type in %s", json);
	ck_assert_str_eq(values[1], "console");
	ck_assert_msg(found[2], "no binary in %s", json);
	ck_assert_str_eq(values[2], BINDIR "/vhost-device-console");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);

	ck_assert_int_eq(run_make("uninstall", dir), 0);
	ck_assert_msg(!path_exists(path), "make uninstall left %s", path);
	snprintf(path, sizeof(path), "%s" BINDIR "/vhost-device-console", dir);
	ck_assert_msg(!path_exists(path), "make uninstall left %s", path);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* make TARGET PREFIX=@prefix, everything under it (no DESTDIR). */
static int run_make_prefix(const char *target, const char *prefix)
{
	char cmd[1024];
	int status;

	snprintf(cmd, sizeof(cmd),
		 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C '%s' %s "
		 "PREFIX='%s' >&2",
		 srcdir(), target, prefix);
	status = system(cmd);
	ck_assert_msg(status != -1 && WIFEXITED(status), "cannot run make %s",
		      target);
	return WEXITSTATUS(status);
}

/*
 * systemd-analyze verify on instance "t" of the installed template units
 * (copies named as an instance, as systemd would load them); MANPATH finds
 * the installed man page their Documentation= names. Returns its exit
 * status; @out gets what it said (any warning is a failure too).
 */
static int verify_units(const char *prefix, char *out, size_t len)
{
	static const char *const units[] = {"service", "socket"};
	char cmd[2048];
	FILE *p;
	size_t n;
	int status;

	for (size_t i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p '%s/verify' && cp "
			 "'%s/lib/systemd/system/vhost-device-console@.%s' "
			 "'%s/verify/vhost-device-console@t.%s'",
			 prefix, prefix, units[i], prefix, units[i]);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/verify' && MANPATH='%s/share/man' systemd-analyze verify "
		 "./vhost-device-console@t.service "
		 "./vhost-device-console@t.socket 2>&1",
		 prefix, prefix);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	status = pclose(p);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_installed_units_pass_systemd_analyze_verify)
{
	char dir[64], path[512], want[512], cmd[1200], out[4096];
	const char *unit;

	if (system("command -v systemd-analyze >/dev/null") != 0) {
		printf("SKIP: no systemd-analyze (package systemd)\n");
		return;
	}
	make_tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(run_make_prefix("install", dir), 0);

	snprintf(path, sizeof(path),
		 "%s/lib/systemd/system/vhost-device-console@.service", dir);
	unit = read_file(path);
	snprintf(want, sizeof(want), "\nExecStart=%s/bin/vhost-device-console ",
		 dir);
	ck_assert_msg(strstr(unit, want),
		      "%s does not run the installed binary (%s):\n%s", path,
		      want + 1, unit);
	ck_assert_msg(strstr(unit, "\nType=notify\n"), "not Type=notify");
	ck_assert_msg(
		strstr(unit,
		       "\nEnvironmentFile=/etc/vhost-device-console/%i.conf\n"),
		"no EnvironmentFile per instance");
	ck_assert_msg(
		strstr(unit,
		       "\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n"),
		"address families");

	ck_assert_msg(verify_units(dir, out, sizeof(out)) == 0 && !out[0],
		      "systemd-analyze verify failed or warned:\n%s", out);

	/* A unit it must reject: the check is not a rubber stamp. */
	snprintf(cmd, sizeof(cmd),
		 "printf '[Service]\\nExecStart=%s/bin/missing\\n' >>'%s'", dir,
		 path);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_msg(
		verify_units(dir, out, sizeof(out)) != 0,
		"systemd-analyze verify accepted a second ExecStart= naming a missing binary");

	ck_assert_int_eq(run_make_prefix("uninstall", dir), 0);
	ck_assert_msg(!path_exists(path), "make uninstall left %s", path);
	snprintf(path, sizeof(path),
		 "%s/lib/systemd/system/vhost-device-console@.socket", dir);
	ck_assert_msg(!path_exists(path), "make uninstall left %s", path);
	remove_tree(dir);
}
END_TEST

/* @text as README.md shows a file: each line not blank indented by 4. */
static void indent_block(const char *text, char *out, size_t len)
{
	size_t n = 0;
	bool bol = true;

	for (const char *p = text; *p && n + 6 < len; p++) {
		if (bol && *p != '\n') {
			memcpy(out + n, "    ", 4);
			n += 4;
		}
		out[n++] = *p;
		bol = *p == '\n';
	}
	out[n] = '\0';
}

START_TEST(test_readme_shows_the_units_as_installed)
{
	static const char *const units[] = {"vhost-device-console@.service",
					    "vhost-device-console@.socket"};
	static char readme[65536 * 2], unit[16384], block[20000];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/README.md", srcdir());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(readme, 1, sizeof(readme) - 1, f);
	readme[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < 2; i++) {
		char *at;

		snprintf(path, sizeof(path), "%s/systemd/%s", srcdir(),
			 units[i]);
		snprintf(unit, sizeof(unit), "%s", read_file(path));
		/* What make install writes with PREFIX=/usr/local. */
		while ((at = strstr(unit, "@BINDIR@")) != NULL) {
			memmove(at + 14, at + 8, strlen(at + 8) + 1);
			memcpy(at, "/usr/local/bin", 14);
		}
		indent_block(unit, block, sizeof(block));
		ck_assert_msg(strstr(readme, block),
			      "README.md does not show %s as installed:\n%s",
			      units[i], block);
	}
}
END_TEST

START_TEST(test_json_reader_rejects_what_is_not_json)
{
	static const char *const keys[] = {"type"};
	static const char *const bad[] = {
		"",
		"{",
		"{\"type\": \"console\",}",
		"{\"type\": 'console'}",
		"{\"type\": \"console\"} x",
		"{\"type\": \"con\nsole\"}",
		"{type: \"console\"}",
		"{\"a\": 01}",
		"[1, 2]",
	};
	char values[1][256];
	bool found[1];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		found[0] = false;
		ck_assert_msg(!json_parse_object(bad[i], keys, values, found,
						 1),
			      "accepted: %s", bad[i]);
	}
	found[0] = false;
	ck_assert(json_parse_object("{\"a\": [1, -2.5e3, true, null, {\"b\": "
				    "\"\\u00e9\"}], "
				    "\"type\": \"console\"}",
				    keys, values, found, 1));
	ck_assert(found[0]);
	ck_assert_str_eq(values[0], "console");
}
END_TEST

START_TEST(test_man_page_names_the_descriptor)
{
	char path[512];
	const char *man;

	snprintf(path, sizeof(path), "%s/docs/vhost-device-console.1",
		 srcdir());
	man = read_file(path);
	ck_assert_msg(strstr(man, "50\\-vhost\\-device\\-console.json") ||
			      strstr(man, "50-vhost-device-console.json"),
		      "the man page does not name the vhost-user descriptor");
}
END_TEST

Suite *install_suite(void)
{
	Suite *su = suite_create("install");
	TCase *tc = tcase_create("install");

	/* The first `make install` builds the (unsanitized) daemon. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_json_reader_rejects_what_is_not_json);
	tcase_add_test(tc, test_man_page_names_the_descriptor);
	tcase_add_test(tc, test_readme_shows_the_units_as_installed);
	tcase_add_test(tc,
		       test_install_writes_vhost_user_descriptor_naming_the_binary);
	tcase_add_test(tc, test_installed_units_pass_systemd_analyze_verify);
	suite_add_tcase(su, tc);
	return su;
}
