/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * gb_report.c - vdc-gb-report: the table and JSON lines of
 * `make bench-guest`.
 *
 * Reads samples, one per line, "FRONTEND CONFIG ROUND METRIC VALUE"
 * (FRONTEND uml or qemu; CONFIG vdc, sink or virtconsole), and prints for
 * every frontend and metric each configuration's spread (min, p10, p50,
 * p90, max over all its samples), and the daemon's p50 as a ratio to the
 * sink's and to QEMU's virtconsole's. Then the targets, and one
 * JSON object per line for each result and target.
 *
 *     vdc-gb-report [--json] < samples
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES 4096

enum { CFG_VDC, CFG_SINK, CFG_QEMU, CFG_FWD_FIRST, CFG_ACK_FIRST, N_CFG };
enum { FE_UML, FE_QEMU, N_FE };

static const char *const cfg_name[N_CFG] = {"vdc", "sink", "virtconsole",
					    "fwd-first", "ack-first"};
static const char *const fe_name[N_FE] = {"uml", "qemu"};

struct metric {
	const char *name; /* as the client prints it */
	const char *label;
	const char *unit;
	bool higher_better;
	bool no_ratio; /* a share, often 0: shown, never divided */
};

static const struct metric metrics[] = {
	{"g2h_MBps", "guest -> host, 8 MiB", "MB/s", true, false},
	{"g2h_lost_pct", "  of it lost", "%", false, true},
	{"h2g_MBps", "host -> guest, 1 MiB", "MB/s", true, false},
	{"echo_us", "single-key echo", "us", false, false},
	{"cmd_ms", "command round trip", "ms", false, false},
	{"cmd_answered_ms", "  same, cursor query answered", "ms", false, true},
	{"cmd_plain_ms", "  same, to a read loop", "ms", false, true},
};
#define N_METRIC (sizeof(metrics) / sizeof(metrics[0]))

struct series {
	double v[MAX_SAMPLES];
	unsigned int round[MAX_SAMPLES]; /* of each sample */
	unsigned int n;
	unsigned int rounds; /* highest round seen */
};

static struct series data[N_FE][N_METRIC][N_CFG];

struct stats {
	unsigned int n;
	double min, p10, p50, p90, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v. */
static double pct(const double *v, unsigned int n, double p)
{
	unsigned int k = (unsigned int)ceil(p / 100.0 * n);

	return v[k ? k - 1 : 0];
}

static bool stats_of(const struct series *s, struct stats *st)
{
	static double v[MAX_SAMPLES];

	if (!s->n)
		return false;
	memcpy(v, s->v, s->n * sizeof(double));
	qsort(v, s->n, sizeof(double), cmp_double);
	*st = (struct stats){
		.n = s->n,
		.min = v[0],
		.p10 = pct(v, s->n, 10),
		.p50 = pct(v, s->n, 50),
		.p90 = pct(v, s->n, 90),
		.max = v[s->n - 1],
	};
	return true;
}

/* The median of @s's samples from round @round; NAN if none. */
static double round_p50(const struct series *s, unsigned int round)
{
	static double v[MAX_SAMPLES];
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n; i++)
		if (s->round[i] == round)
			v[n++] = s->v[i];
	if (!n)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	return pct(v, n, 50);
}

static int index_of(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static int metric_of(const char *s)
{
	for (unsigned int i = 0; i < N_METRIC; i++)
		if (strcmp(metrics[i].name, s) == 0)
			return (int)i;
	return -1;
}

static void read_samples(void)
{
	char fe[16], cfg[16], m[32];
	unsigned int round;
	double v;

	while (scanf("%15s %15s %u %31s %lf", fe, cfg, &round, m, &v) == 5) {
		int f = index_of(fe_name, N_FE, fe);
		int c = index_of(cfg_name, N_CFG, cfg);
		int k = metric_of(m);
		struct series *s;

		if (f < 0 || c < 0 || k < 0) {
			fprintf(stderr, "vdc-gb-report: ignored: %s %s %s\n",
				fe, cfg, m);
			continue;
		}
		s = &data[f][k][c];
		if (s->n < MAX_SAMPLES) {
			s->round[s->n] = round;
			s->v[s->n++] = v;
		}
		if (round > s->rounds)
			s->rounds = round;
	}
}

/* The daemon's p50 over @other's: > 1 is better for throughput, < 1 for
 * latency. NAN when either is missing. */
static double ratio(const struct stats *vdc, const struct stats *other)
{
	if (!vdc->n || !other->n || other->p50 == 0)
		return NAN;
	return vdc->p50 / other->p50;
}

static void print_num(double v)
{
	if (isnan(v))
		printf(" %8s", "-");
	else
		printf(" %8.4g", v);
}

static void json_num(const char *key, double v)
{
	if (isnan(v))
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%.4g", key, v);
}

#define MAX_ROUNDS 16

struct target {
	char what[96];
	double per_round[MAX_ROUNDS]; /* the ratio of each round's medians */
	unsigned int n_rounds;
	int fe;
	double measured, limit;
	bool at_least;
};

static struct target targets[16];
static unsigned int n_targets;

static void add_target(const char *what, int fe, unsigned int k, int ref,
		       double measured, double limit, bool at_least)
{
	const struct series *vdc = &data[fe][k][CFG_VDC];
	const struct series *other = &data[fe][k][ref];
	unsigned int rounds =
		vdc->rounds > other->rounds ? vdc->rounds : other->rounds;
	struct target *t = &targets[n_targets];

	if (isnan(measured) || n_targets == 16)
		return;
	memset(t, 0, sizeof(*t));
	snprintf(t->what, sizeof(t->what), "%s: %s", metrics[k].name, what);
	t->fe = fe;
	t->measured = measured;
	t->limit = limit;
	t->at_least = at_least;
	for (unsigned int r = 1; r <= rounds && t->n_rounds < MAX_ROUNDS; r++) {
		double a = round_p50(vdc, r), b = round_p50(other, r);

		if (!isnan(a) && !isnan(b) && b != 0)
			t->per_round[t->n_rounds++] = a / b;
	}
	n_targets++;
}

static void table(bool json_only)
{
	struct stats st[N_FE][N_METRIC][N_CFG];

	memset(st, 0, sizeof(st));
	for (int f = 0; f < N_FE; f++)
		for (unsigned int k = 0; k < N_METRIC; k++)
			for (int c = 0; c < N_CFG; c++)
				stats_of(&data[f][k][c], &st[f][k][c]);
	if (!json_only)
		printf("\n  %-30s %-12s %5s %8s %8s %8s %8s %8s %8s %8s\n",
		       "result", "config", "n", "min", "p10", "p50", "p90",
		       "max", "/sink", "/virtcon");
	for (int f = 0; f < N_FE; f++) {
		if (!json_only)
			printf("\n%s guest\n",
			       f == FE_UML ? "UML" : "QEMU (TCG)");
		for (unsigned int k = 0; k < N_METRIC; k++) {
			const struct metric *m = &metrics[k];
			double rs =
				ratio(&st[f][k][CFG_VDC], &st[f][k][CFG_SINK]);
			double rq =
				ratio(&st[f][k][CFG_VDC], &st[f][k][CFG_QEMU]);

			if (m->no_ratio)
				rs = rq = NAN;

			bool first = true;

			for (int c = 0; c < N_CFG; c++) {
				const struct stats *s = &st[f][k][c];
				char label[64];

				if (!s->n)
					continue;
				snprintf(label, sizeof(label), "%s (%s)",
					 m->label, m->unit);
				if (!json_only) {
					printf("  %-30s %-12s %5u",
					       first ? label : "", cfg_name[c],
					       s->n);
					first = false;
					print_num(s->min);
					print_num(s->p10);
					print_num(s->p50);
					print_num(s->p90);
					print_num(s->max);
					print_num(c == CFG_VDC ? rs : NAN);
					print_num(c == CFG_VDC ? rq : NAN);
					printf("\n");
				}
			}
			if (!json_only && k != 0 && !m->no_ratio &&
			    st[f][k][CFG_VDC].n && !st[f][k][CFG_SINK].n)
				printf("  %-30s %-12s   (the sink takes no part: it has no host side)\n",
				       "", "sink");
			if (k == 0)
				add_target(">= 0.9x the sink", f, k, CFG_SINK,
					   rs, 0.9, true);
			add_target("no worse than QEMU's virtconsole", f, k,
				   CFG_QEMU, rq, 1.0, m->higher_better);
		}
	}
	/* JSON lines. */
	if (!json_only)
		printf("\n");
	for (int f = 0; f < N_FE; f++)
		for (unsigned int k = 0; k < N_METRIC; k++)
			for (int c = 0; c < N_CFG; c++) {
				const struct stats *s = &st[f][k][c];

				if (!s->n)
					continue;
				printf("{\"frontend\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"config\":\"%s\",\"n\":%u",
				       fe_name[f], metrics[k].name,
				       metrics[k].unit, cfg_name[c], s->n);
				json_num("min", s->min);
				json_num("p10", s->p10);
				json_num("p50", s->p50);
				json_num("p90", s->p90);
				json_num("max", s->max);
				if (c == CFG_VDC && !metrics[k].no_ratio) {
					json_num("ratio_sink",
						 ratio(s, &st[f][k][CFG_SINK]));
					json_num("ratio_virtconsole",
						 ratio(s, &st[f][k][CFG_QEMU]));
				}
				printf("}\n");
			}
}

static void print_targets(bool json_only)
{
	if (!json_only)
		printf("\ntargets (informational: nothing fails on a number)\n");
	for (unsigned int i = 0; i < n_targets; i++) {
		const struct target *t = &targets[i];
		bool met = t->at_least ? t->measured >= t->limit
				       : t->measured <= t->limit;

		if (json_only)
			continue;
		printf("  %-4s %-44s ratio %7.3f %s %-4g %-6s per round:",
		       fe_name[t->fe], t->what, t->measured,
		       t->at_least ? ">=" : "<=", t->limit,
		       met ? "met" : "MISSED");
		for (unsigned int r = 0; r < t->n_rounds; r++)
			printf(" %.2f", t->per_round[r]);
		printf("\n");
	}
	for (unsigned int i = 0; i < n_targets; i++) {
		const struct target *t = &targets[i];
		bool met = t->at_least ? t->measured >= t->limit
				       : t->measured <= t->limit;

		printf("{\"target\":\"%s\",\"frontend\":\"%s\",\"measured\":%.4g,\"limit\":%g,\"met\":%s,\"per_round\":[",
		       t->what, fe_name[t->fe], t->measured, t->limit,
		       met ? "true" : "false");
		for (unsigned int r = 0; r < t->n_rounds; r++)
			printf("%s%.4g", r ? "," : "", t->per_round[r]);
		printf("]}\n");
	}
}

int main(int argc, char *argv[])
{
	bool json_only = argc > 1 && strcmp(argv[1], "--json") == 0;

	read_samples();
	table(json_only);
	print_targets(json_only);
	return 0;
}
