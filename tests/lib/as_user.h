/* SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause */
/*
 * as_user.h - another local user in a test: a forked child that dropped
 * to a uid and gid of its own (the tests run as root), as an attacker on
 * the same host would be.
 */
#ifndef VDC_TEST_AS_USER_H
#define VDC_TEST_AS_USER_H

#include <sys/types.h>

#define NOBODY_UID ((uid_t)65534)
#define NOBODY_GID ((gid_t)65534)

/*
 * fork_as_user() - fork; the child drops to @uid/@gid with no
 * supplementary groups before it returns 0 (it _exits with 125 if it
 * cannot). The parent gets the child's pid. The child must end with
 * _exit(): its status is the test's answer.
 */
pid_t fork_as_user(uid_t uid, gid_t gid);

/* wait_child_exit() - the child's exit code, or -1 (killed, or no end in
 * @timeout_ms: then it is killed) */
int wait_child_exit(pid_t pid, int timeout_ms);

#endif
