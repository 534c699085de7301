/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * report.c - collect results, print them, check the targets.
 *
 * Benchmarks are not tests: a missed target is printed, never turned
 * into an exit status.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

#define MAX_RESULTS 512

struct result {
	char name[64];
	double value;
	char unit[16];
	char baseline[64]; /* "" when none */
	char note[120];
	bool section; /* a heading: name is its title */
};

static struct result results[MAX_RESULTS];
static unsigned int nresults;

/* Where a new row goes; the last one is reused when full. */
static struct result *next_row(void)
{
	struct result *r = &results[nresults];

	if (nresults + 1 < MAX_RESULTS)
		nresults++;
	memset(r, 0, sizeof(*r));
	return r;
}

/** report_section() - a heading above the results that follow */
void report_section(const char *title)
{
	struct result *r = next_row();

	snprintf(r->name, sizeof(r->name), "%s", title);
	r->section = true;
}

/**
 * report_add() - one result
 * @baseline:	the name of the result it compares with, or NULL
 * @note_fmt:	a short remark for the table, or NULL
 */
void report_add(const char *name, double value, const char *unit,
		const char *baseline, const char *note_fmt, ...)
{
	struct result *r = next_row();
	va_list ap;

	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->unit, sizeof(r->unit), "%s", unit);
	snprintf(r->baseline, sizeof(r->baseline), "%s",
		 baseline ? baseline : "");
	r->value = value;
	if (note_fmt) {
		va_start(ap, note_fmt);
		vsnprintf(r->note, sizeof(r->note), note_fmt, ap);
		va_end(ap);
	}
}

/* Does @name match @pattern, which may hold one '*'? */
static bool name_matches(const char *pattern, const char *name)
{
	const char *star = strchr(pattern, '*');
	size_t pre, post, len = strlen(name);

	if (!star)
		return strcmp(pattern, name) == 0;
	pre = (size_t)(star - pattern);
	post = strlen(star + 1);
	return len >= pre + post && strncmp(pattern, name, pre) == 0 &&
	       strcmp(name + len - post, star + 1) == 0;
}

/* The first result whose name matches @pattern, or NULL. */
static const struct result *find(const char *pattern)
{
	for (unsigned int i = 0; i < nresults; i++)
		if (!results[i].section &&
		    name_matches(pattern, results[i].name))
			return &results[i];
	return NULL;
}

/* @r's baseline value and ratio; false when it has none. */
static bool ratio_of(const struct result *r, double *base, double *ratio)
{
	const struct result *b = r->baseline[0] ? find(r->baseline) : NULL;

	if (!b || b->value == 0 || isnan(b->value) || isnan(r->value))
		return false;
	*base = b->value;
	*ratio = r->value / b->value;
	return true;
}

/* Four significant digits, without an exponent for big numbers. */
static const char *fmt(double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (fabs(v) >= 1000)
		snprintf(buf, cap, "%.0f", v);
	else
		snprintf(buf, cap, "%.4g", v);
	return buf;
}

/* One line of the table, or a section heading. */
static void print_row(const struct result *r)
{
	char v[32], bv[32], ra[32];
	double base = NAN, ratio = NAN;

	if (r->section) {
		printf("\n%s\n", r->name);
		return;
	}
	ratio_of(r, &base, &ratio);
	printf("  %-34s %10s %-9s %-24s %10s %6s  %s\n", r->name,
	       fmt(r->value, v, sizeof(v)), r->unit,
	       r->baseline[0] ? r->baseline : "-", fmt(base, bv, sizeof(bv)),
	       fmt(ratio, ra, sizeof(ra)), r->note);
}

/* A JSON number, or null. */
static void json_number(double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", stdout);
	else
		printf("%.6g", v);
}

/* A JSON string; our names and notes hold no control characters. */
static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

/* One result as one JSON object on one line. */
static void print_json(const struct result *r)
{
	double base = NAN, ratio = NAN;
	bool has = ratio_of(r, &base, &ratio);

	printf("{\"name\":");
	json_string(r->name);
	printf(",\"value\":");
	json_number(r->value);
	printf(",\"unit\":");
	json_string(r->unit);
	printf(",\"baseline\":");
	if (has)
		json_string(r->baseline);
	else
		fputs("null", stdout);
	printf(",\"baseline_value\":");
	json_number(base);
	printf(",\"ratio\":");
	json_number(ratio);
	if (r->note[0]) {
		printf(",\"note\":");
		json_string(r->note);
	}
	printf("}\n");
}

/* --- targets -------------------------------------------------------- */

enum cmp {
	AT_LEAST,
	AT_MOST,
	BELOW,
};

struct target {
	const char *what;
	const char *result; /* may hold one '*' */
	bool use_ratio; /* compare the ratio, not the value */
	enum cmp cmp;
	double limit;
};

/* The targets, as ratios measured in one run. */
static const struct target targets[] = {
	{"g2c 4 KiB chains >= 50% of plain TCP", "g2c_network_4096", true,
	 AT_LEAST, 0.5},
	{"g2c 4 KiB chains >= 50% of plain unix", "g2c_uds_4096", true,
	 AT_LEAST, 0.5},
	{"g2c 64 B chains: < 1 syscall per chain (network)",
	 "g2c_network_64_syscalls", false, BELOW, 1},
	{"g2c 64 B chains: < 1 syscall per chain (uds)", "g2c_uds_64_syscalls",
	 false, BELOW, 1},
	{"g2c 1 KiB chains >= 95% of plain TCP at its best", "g2c_network_1024_vs_best", true, AT_LEAST, 0.95},
	{"g2c 4 KiB chains >= 95% of plain TCP at its best", "g2c_network_4096_vs_best", true, AT_LEAST, 0.95},
	{"g2c 64 KiB chains >= 95% of plain TCP at its best", "g2c_network_65536_vs_best", true, AT_LEAST, 0.95},
	{"g2c 1 KiB chains >= 95% of plain unix at its best", "g2c_uds_1024_vs_best", true, AT_LEAST, 0.95},
	{"g2c 4 KiB chains >= 95% of plain unix at its best", "g2c_uds_4096_vs_best", true, AT_LEAST, 0.95},
	{"g2c 64 KiB chains >= 95% of plain unix at its best", "g2c_uds_65536_vs_best", true, AT_LEAST, 0.95},
	{"a stalled watcher does not slow the writer (TCP)", "g2c_network_4096_stalled_watcher", true, AT_LEAST, 0.9},
	{"a stalled watcher does not slow the writer (unix)", "g2c_uds_4096_stalled_watcher", true, AT_LEAST, 0.9},
	{"worker RSS back to idle after the transfers (< 2 MiB anon)", "rss_worker_anon_after_*", false, BELOW, 2048},
	{"c2g >= 50% of plain TCP", "c2g_network", true, AT_LEAST, 0.5},
	{"c2g >= 50% of plain unix", "c2g_uds", true, AT_LEAST, 0.5},
	{"echo p50 <= 3x plain eventfd+TCP", "echo_network_p50", true, AT_MOST,
	 3},
	{"echo p50 <= 3x plain eventfd+unix", "echo_uds_p50", true, AT_MOST, 3},
	{"idle worker: zero CPU time", "idle_worker_cpu", false, AT_MOST, 0},
	{"idle worker: no wake-ups", "idle_worker_wakeups", false, AT_MOST, 0},
	{"idle parent: zero CPU time", "idle_parent_cpu", false, AT_MOST, 0},
	{"parent RSS < 2 MiB", "rss_parent", false, BELOW, 2048},
	{"worker RSS < 2 MiB", "rss_worker", false, BELOW, 2048},
	{"all sockets served < 0.5 s", "scale_*_ready", false, BELOW, 0.5},
};

/* The figure @t looks at, or NaN when it was not measured. */
static double measured(const struct target *t, const struct result **rp)
{
	const struct result *r = find(t->result);
	double base, ratio;

	*rp = r;
	if (!r)
		return NAN;
	if (!t->use_ratio)
		return r->value;
	return ratio_of(r, &base, &ratio) ? ratio : NAN;
}

/* Does @v meet @t? */
static bool met(const struct target *t, double v)
{
	switch (t->cmp) {
	case AT_LEAST:
		return v >= t->limit;
	case AT_MOST:
		return v <= t->limit;
	case BELOW:
		return v < t->limit;
	}
	return false;
}

/* How @c prints. */
static const char *cmp_text(enum cmp c)
{
	return c == AT_LEAST ? ">=" : c == AT_MOST ? "<=" : "<";
}

/* Every target that was measured: a table, or JSON lines. */
static void print_targets(bool json_only)
{
	char v[32], l[32];

	if (!json_only)
		printf("\ntargets (informational: nothing fails on a "
		       "number)\n");
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const struct target *t = &targets[i];
		const struct result *r;
		double m = measured(t, &r);

		if (!r || isnan(m))
			continue;
		if (!json_only) {
			printf("  %-50s %-8s %8s %-2s %-6s %s\n", t->what,
			       t->use_ratio ? "ratio" : r->unit,
			       fmt(m, v, sizeof(v)), cmp_text(t->cmp),
			       fmt(t->limit, l, sizeof(l)),
			       met(t, m) ? "met" : "MISSED");
			continue;
		}
		printf("{\"target\":");
		json_string(t->what);
		printf(",\"name\":");
		json_string(r->name);
		printf(",\"measured\":");
		json_number(m);
		printf(",\"limit\":");
		json_number(t->limit);
		printf(",\"met\":%s}\n", met(t, m) ? "true" : "false");
	}
}

/** report_print() - the table and targets, then the JSON lines */
void report_print(bool json_only)
{
	if (!json_only) {
		printf("  %-34s %10s %-9s %-24s %10s %6s  %s\n", "result",
		       "value", "unit", "baseline", "baseline", "ratio",
		       "note");
		for (unsigned int i = 0; i < nresults; i++)
			print_row(&results[i]);
		print_targets(false);
		printf("\n");
	}
	for (unsigned int i = 0; i < nresults; i++)
		if (!results[i].section)
			print_json(&results[i]);
	print_targets(true);
	fflush(stdout);
}
