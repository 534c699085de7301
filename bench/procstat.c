/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * procstat.c - read a process's counters from /proc.
 *
 * CPU time comes from schedstat (nanoseconds) summed over threads, since
 * the tick counts in stat are too coarse to tell "none" from "a little".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

/* Read a small /proc file into @buf, NUL-terminated; -1 if it is gone. */
static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The number after "@key" in a "Key: value" file, or -1. */
static long field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (!p)
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

/* Add one thread's on-CPU time and voluntary switches to @s. */
static void add_task(pid_t pid, const char *tid, struct proc_sample *s)
{
	char path[96], buf[2048];

	snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid,
		 tid);
	if (read_file(path, buf, sizeof(buf)) == 0)
		s->cpu_ns += strtoull(buf, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, tid);
	if (read_file(path, buf, sizeof(buf)) == 0)
		s->wakeups +=
			(uint64_t)field(buf, "\nvoluntary_ctxt_switches:");
}

/* Sum what every thread of @pid reports per thread. */
static int sample_tasks(pid_t pid, struct proc_sample *s)
{
	char path[64];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			add_task(pid, e->d_name, s);
	closedir(d);
	return 0;
}

/* utime + stime: fields 14 and 15 of stat, after the "(comm)". */
static void sample_ticks(pid_t pid, struct proc_sample *s)
{
	char path[64], buf[1024];
	unsigned long ut, st;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return;
	p = strrchr(buf, ')');
	if (p && sscanf(p + 2,
			"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			"%lu %lu",
			&ut, &st) == 2)
		s->cpu_ticks = ut + st;
}

/* Memory from status, read and write calls from io, PSS from smaps. */
static void sample_memory_io(pid_t pid, struct proc_sample *s)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_file(path, buf, sizeof(buf)) == 0) {
		s->rss_kb = field(buf, "\nVmRSS:");
		s->hwm_kb = field(buf, "\nVmHWM:");
		s->anon_kb = field(buf, "\nRssAnon:");
		s->file_kb = field(buf, "\nRssFile:");
		s->shmem_kb = field(buf, "\nRssShmem:");
	}
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if (read_file(path, buf, sizeof(buf)) == 0) {
		s->syscr = (uint64_t)field(buf, "\nsyscr:");
		s->syscw = (uint64_t)field(buf, "\nsyscw:");
	}
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (read_file(path, buf, sizeof(buf)) == 0)
		s->pss_kb = field(buf, "\nPss:");
}

/**
 * proc_sample() - everything about @pid at once
 *
 * Return: 0, or -1 if the process is gone
 */
int proc_sample(pid_t pid, struct proc_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->rss_kb = s->hwm_kb = s->pss_kb = -1;
	if (sample_tasks(pid, s) < 0)
		return -1;
	sample_ticks(pid, s);
	sample_memory_io(pid, s);
	return 0;
}

/**
 * proc_parent() - @pid's parent, and its comm into @comm
 *
 * Return: the parent pid, or -1 if @pid is gone or a zombie
 */
pid_t proc_parent(pid_t pid, char *comm, size_t comm_cap)
{
	char path[64], buf[1024];
	const char *open, *close_paren;
	char state;
	int ppid;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	open = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open || !close_paren || close_paren < open ||
	    sscanf(close_paren + 2, "%c %d", &state, &ppid) != 2 ||
	    state == 'Z')
		return -1;
	n = (size_t)(close_paren - open - 1);
	if (n >= comm_cap)
		n = comm_cap - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	return ppid;
}
