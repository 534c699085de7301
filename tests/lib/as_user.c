/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * as_user.c - fork a child that runs as another local user.
 */
#include <check.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "as_user.h"
#include "helpers.h"

pid_t fork_as_user(uid_t uid, gid_t gid)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	/* Groups first: after setuid there is no right left to drop them. */
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 ||
	    getuid() != uid || geteuid() != uid)
		_exit(125);
	return 0;
}

int wait_child_exit(pid_t pid, int timeout_ms)
{
	int status = wait_pid_timeout(pid, timeout_ms);

	if (status == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
