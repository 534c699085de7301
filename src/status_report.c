/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * status_report.c - format a snapshot of the guests' counters (see
 * status_report.h).
 *
 * The three formats say the same things. The text is one line per guest
 * for a person; JSON is for scripts (strings escaped, bytes that are not
 * UTF-8 replaced by U+FFFD); the metrics follow Prometheus's naming
 * conventions: base units (bytes, seconds), counters ending in _total,
 * one `guest` label.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status_report.h"

#define REPORT_MAX ((size_t)256 << 20) /* no answer is larger */

/** report_printf() - append to @b; on failure @b->failed is set */
void report_printf(struct report_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;
		size_t want;
		char *p;

		if (b->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		want = b->cap ? b->cap * 2 : 4096;
		while (want < b->len + (size_t)n + 1)
			want *= 2;
		p = want <= REPORT_MAX ? realloc(b->p, want) : NULL;
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = want;
	}
}

void report_free(struct report_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void iso_time(char out[32], uint64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%llu", (unsigned long long)secs);
}

static uint64_t dropped_total(const struct guest_stats_data *d)
{
	return d->dropped_client_bytes + d->dropped_unattended_bytes +
	       d->dropped_log_bytes;
}

/* The writer first, then the watchers by slot; NULL when done. */
static const struct guest_client_stats *nth_client(const struct guest_stats_data *d,
						   unsigned int *slot)
{
	for (; *slot < GUEST_STATS_CLIENTS; (*slot)++)
		if (d->client[*slot].kind != GUEST_CLIENT_NONE)
			return &d->client[(*slot)++];
	return NULL;
}

/* --- text ------------------------------------------------------------ */

/* A string from outside, printable: other bytes as \xNN. */
static void text_string(struct report_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			report_printf(b, "\\x%02x", ch);
		else
			report_printf(b, "%c", ch);
	}
}

static void text_client(struct report_buf *b, const struct guest_client_stats *c)
{
	report_printf(b, "%s %s", c->writer ? "writer" : "watcher",
		      guest_client_kind_name((enum guest_client_kind)c->kind));
	if (c->uid >= 0)
		report_printf(b, " uid %lld", (long long)c->uid);
	if (c->pid >= 0 && c->kind != GUEST_CLIENT_TERMINAL)
		report_printf(b, " pid %lld", (long long)c->pid);
	if (c->addr[0] && c->kind != GUEST_CLIENT_TERMINAL) {
		report_printf(b, " ");
		text_string(b, c->addr);
	}
	if (c->dropped_bytes)
		report_printf(b, " (dropped %llu B)",
			      (unsigned long long)c->dropped_bytes);
}

static void text_guest(struct report_buf *b, unsigned int i,
		       const struct status_guest *g, uint64_t now)
{
	const struct guest_stats_data *d = &g->d;
	const struct guest_client_stats *c;
	unsigned int slot = 0, n = 0;
	char when[32];

	report_printf(b, "guest %u: ", i);
	if (!g->ok) {
		report_printf(b, "unavailable (its worker died in the middle of an update)\n");
		return;
	}
	if (d->attached) {
		iso_time(when, d->attached_since);
		report_printf(b, "attached since %s (%llu s)", when,
			      (unsigned long long)(now > d->attached_since
							   ? now - d->attached_since
							   : 0));
	} else {
		report_printf(b, "not attached");
	}
	report_printf(b, ", console %s; %llu client%s", d->console_open ? "open" : "closed",
		      (unsigned long long)d->clients, d->clients == 1 ? "" : "s");
	for (int writer = 1; writer >= 0; writer--)
		for (slot = 0; (c = nth_client(d, &slot));)
			if ((int)c->writer == writer) {
				report_printf(b, n++ ? ", " : ": ");
				text_client(b, c);
			}
	report_printf(b, "; out %llu B, in %llu B, dropped %llu B (clients %llu, unattended %llu, log %llu)",
		      (unsigned long long)d->bytes_out,
		      (unsigned long long)d->bytes_in,
		      (unsigned long long)dropped_total(d),
		      (unsigned long long)d->dropped_client_bytes,
		      (unsigned long long)d->dropped_unattended_bytes,
		      (unsigned long long)d->dropped_log_bytes);
	if (d->log_path[0]) {
		report_printf(b, "; log ");
		text_string(b, d->log_path);
		report_printf(b, " (%llu error%s)", (unsigned long long)d->log_errors,
			      d->log_errors == 1 ? "" : "s");
	} else {
		report_printf(b, "; no log");
	}
	report_printf(b, "; restarts %llu; version ", (unsigned long long)d->restarts);
	text_string(b, d->version[0] ? d->version : "?");
	report_printf(b, "\n");
}

/**
 * status_report_text() - one line per guest, for a person
 *
 * "guest 0: attached since 2026-12-08T01:02:03Z (312 s), console open;
 * 2 clients: writer unix uid 1000 pid 4242, watcher tcp uid 1000
 * 127.0.0.1:40312 (dropped 4096 B); out 5120 B, in 12 B, dropped 4096 B
 * (clients 4096, unattended 0, log 0); log /var/log/vm0 (0 errors);
 * restarts 0; version 0.3.0"
 */
void status_report_text(struct report_buf *b, const struct status_snapshot *s)
{
	for (unsigned int i = 0; i < s->guests; i++)
		text_guest(b, i, &s->guest[i], s->now);
	if (!b->p)
		report_printf(b, "%s", "");
}

/* --- JSON ------------------------------------------------------------ */

/* The length of the UTF-8 sequence at @s, 0 if it is not one (RFC 3629). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void json_string(struct report_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	report_printf(b, "\"");
	while (*s) {
		size_t n = utf8_len(s);

		if (n == 0) {
			report_printf(b, "\\ufffd");
			s++;
		} else if (*s == '"' || *s == '\\') {
			report_printf(b, "\\%c", *s++);
		} else if (*s < 0x20 || *s == 0x7f) {
			report_printf(b, "\\u%04x", *s++);
		} else {
			report_printf(b, "%.*s", (int)n, (const char *)s);
			s += n;
		}
	}
	report_printf(b, "\"");
}

static void json_client(struct report_buf *b, const struct guest_client_stats *c)
{
	report_printf(b, "{\"role\":\"%s\",\"kind\":\"%s\",\"uid\":",
		      c->writer ? "writer" : "watcher",
		      guest_client_kind_name((enum guest_client_kind)c->kind));
	if (c->uid >= 0)
		report_printf(b, "%lld", (long long)c->uid);
	else
		report_printf(b, "null");
	report_printf(b, ",\"pid\":");
	if (c->pid >= 0)
		report_printf(b, "%lld", (long long)c->pid);
	else
		report_printf(b, "null");
	report_printf(b, ",\"address\":");
	json_string(b, c->addr);
	report_printf(b, ",\"since\":%llu,\"dropped_bytes\":%llu}",
		      (unsigned long long)c->since,
		      (unsigned long long)c->dropped_bytes);
}

static void json_guest(struct report_buf *b, unsigned int i,
		       const struct status_guest *g)
{
	const struct guest_stats_data *d = &g->d;
	const struct guest_client_stats *c;
	unsigned int slot = 0, n = 0;

	report_printf(b, "{\"index\":%u,\"available\":%s", i, g->ok ? "true" : "false");
	if (!g->ok) {
		report_printf(b, "}");
		return;
	}
	report_printf(b, ",\"attached\":%s,\"attached_since\":", d->attached ? "true" : "false");
	if (d->attached)
		report_printf(b, "%llu", (unsigned long long)d->attached_since);
	else
		report_printf(b, "null");
	report_printf(b, ",\"attaches\":%llu,\"console_open\":%s,\"clients\":[",
		      (unsigned long long)d->attaches, d->console_open ? "true" : "false");
	for (int writer = 1; writer >= 0; writer--)
		for (slot = 0; (c = nth_client(d, &slot));)
			if ((int)c->writer == writer) {
				report_printf(b, n++ ? "," : "");
				json_client(b, c);
			}
	report_printf(b, "],\"bytes_out\":%llu,\"bytes_in\":%llu,\"dropped_bytes\":%llu,"
			 "\"dropped\":{\"clients\":%llu,\"unattended\":%llu,\"log\":%llu},"
			 "\"console_log\":",
		      (unsigned long long)d->bytes_out,
		      (unsigned long long)d->bytes_in,
		      (unsigned long long)dropped_total(d),
		      (unsigned long long)d->dropped_client_bytes,
		      (unsigned long long)d->dropped_unattended_bytes,
		      (unsigned long long)d->dropped_log_bytes);
	if (d->log_path[0])
		json_string(b, d->log_path);
	else
		report_printf(b, "null");
	report_printf(b, ",\"console_log_errors\":%llu,\"worker_restarts\":%llu,\"worker_pid\":",
		      (unsigned long long)d->log_errors,
		      (unsigned long long)d->restarts);
	if (d->worker_pid)
		report_printf(b, "%llu", (unsigned long long)d->worker_pid);
	else
		report_printf(b, "null");
	report_printf(b, ",\"version\":");
	json_string(b, d->version);
	report_printf(b, "}");
}

/**
 * status_report_json() - one JSON object: the daemon and its guests
 * (the fields are listed in docs/control-socket.md)
 */
void status_report_json(struct report_buf *b, const struct status_snapshot *s)
{
	report_printf(b, "{\"format\":%d,\"program\":\"vhost-device-console\",\"version\":",
		      STATUS_FORMAT);
	json_string(b, s->version);
	report_printf(b, ",\"pid\":%ld,\"time\":%llu,\"guests\":[", s->pid,
		      (unsigned long long)s->now);
	for (unsigned int i = 0; i < s->guests; i++) {
		report_printf(b, i ? "," : "");
		json_guest(b, i, &s->guest[i]);
	}
	report_printf(b, "]}\n");
}

/* --- Prometheus ------------------------------------------------------ */

#define METRIC_PREFIX "vhost_device_console_"

/* One family per guest counter, in the order they are written. */
static const struct metric {
	const char *name, *type, *help;
	size_t offset;
	const char *label; /* an extra label=value, or NULL */
} metrics[] = {
#define GS(f) offsetof(struct guest_stats_data, f)
	{"frontend_attached", "gauge", "Whether a VMM (vhost-user frontend) is connected (1) or not (0).", GS(attached), NULL},
	{"frontend_attach_time_seconds", "gauge", "When the frontend connected, in seconds since the epoch; 0 when none is.", GS(attached_since), NULL},
	{"frontend_attaches_total", "counter", "Frontends served.", GS(attaches), NULL},
	{"console_open", "gauge", "Whether the guest has its console open (1) or not (0).", GS(console_open), NULL},
	{"clients", "gauge", "Clients of the console: the writer and its watchers.", GS(clients), NULL},
	{"output_bytes_total", "counter", "Bytes the guest wrote (guest to host), every port.", GS(bytes_out), NULL},
	{"input_bytes_total", "counter", "Bytes the guest read (host to guest), every port.", GS(bytes_in), NULL},
	{"dropped_bytes_total", "counter", "Console output lost: by clients that fell behind, overwritten while no client was connected, or not written to the console log.", GS(dropped_client_bytes), "reason=\"client\""},
	{NULL, NULL, NULL, GS(dropped_unattended_bytes), "reason=\"unattended\""},
	{NULL, NULL, NULL, GS(dropped_log_bytes), "reason=\"log\""},
	{"console_log_errors_total", "counter", "Console log write errors and failed reopens.", GS(log_errors), NULL},
	{"worker_restarts_total", "counter", "Times the guest's worker was restarted after it died.", GS(restarts), NULL},
#undef GS
};

static uint64_t field_at(const struct guest_stats_data *d, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)d + offset, sizeof(v));
	return v;
}

/* The samples of metrics[m] (and of the unnamed rows after it). */
static void metric_family(struct report_buf *b, const struct status_snapshot *s,
			  size_t m)
{
	size_t end = m + 1;

	while (end < sizeof(metrics) / sizeof(metrics[0]) && !metrics[end].name)
		end++;
	report_printf(b, "# HELP " METRIC_PREFIX "%s %s\n# TYPE " METRIC_PREFIX "%s %s\n",
		      metrics[m].name, metrics[m].help, metrics[m].name,
		      metrics[m].type);
	for (size_t r = m; r < end; r++)
		for (unsigned int i = 0; i < s->guests; i++) {
			if (!s->guest[i].ok)
				continue;
			report_printf(b, METRIC_PREFIX "%s{guest=\"%u\"%s%s} %llu\n",
				      metrics[m].name, i,
				      metrics[r].label ? "," : "",
				      metrics[r].label ? metrics[r].label : "",
				      (unsigned long long)field_at(&s->guest[i].d,
								   metrics[r].offset));
		}
}

/**
 * status_report_metrics() - Prometheus text exposition, format 0.0.4
 *
 * A guest whose entry could not be read consistently is left out of the
 * samples and counted in vhost_device_console_guests_unavailable.
 */
void status_report_metrics(struct report_buf *b,
			   const struct status_snapshot *s)
{
	unsigned int unavailable = 0;

	for (unsigned int i = 0; i < s->guests; i++)
		unavailable += s->guest[i].ok ? 0 : 1;
	report_printf(b, "# HELP " METRIC_PREFIX "info The daemon's version.\n"
			 "# TYPE " METRIC_PREFIX "info gauge\n" METRIC_PREFIX "info{version=\"");
	for (const char *v = s->version; *v; v++)
		if (*v != '"' && *v != '\\' && *v != '\n')
			report_printf(b, "%c", *v);
	report_printf(b, "\"} 1\n"
			 "# HELP " METRIC_PREFIX "guests Guests the daemon serves (--socket-count).\n"
			 "# TYPE " METRIC_PREFIX "guests gauge\n" METRIC_PREFIX "guests %u\n"
			 "# HELP " METRIC_PREFIX "guests_unavailable Guests whose counters could not be read consistently now.\n"
			 "# TYPE " METRIC_PREFIX "guests_unavailable gauge\n" METRIC_PREFIX "guests_unavailable %u\n",
		      s->guests, unavailable);
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++)
		if (metrics[m].name)
			metric_family(b, s, m);
}
