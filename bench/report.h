/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * report.h - the results: a table for people, one JSON object per line
 * for tools, and the targets checked against them.
 *
 * A result may name a baseline result; its ratio is value / baseline
 * value, worked out when the report is printed.
 */
#ifndef VDC_BENCH_REPORT_H
#define VDC_BENCH_REPORT_H

#include <stdbool.h>

void report_section(const char *title);
void report_add(const char *name, double value, const char *unit,
		const char *baseline, const char *note_fmt, ...)
	__attribute__((format(printf, 5, 6)));
void report_print(bool json_only);

#endif
