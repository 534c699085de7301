/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * procstat.h - what /proc says about a process: CPU time, wake-ups,
 * memory and read/write system calls.
 */
#ifndef VDC_BENCH_PROCSTAT_H
#define VDC_BENCH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct proc_sample {
	uint64_t cpu_ns; /* on-CPU time of all threads (schedstat) */
	uint64_t cpu_ticks; /* utime + stime, in clock ticks */
	uint64_t wakeups; /* voluntary context switches, all threads */
	uint64_t syscr, syscw; /* read- and write-class system calls */
	long rss_kb, hwm_kb; /* VmRSS, VmHWM */
	long anon_kb, file_kb, shmem_kb;
	long pss_kb; /* smaps_rollup; -1 if unknown */
};

int proc_sample(pid_t pid, struct proc_sample *s);
pid_t proc_parent(pid_t pid, char *comm, size_t comm_cap);

#endif
