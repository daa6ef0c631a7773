// SPDX-License-Identifier: GPL-2.0
/*
 * The gofer's seccomp allowlist, installed as the last step before serving.
 * Anything else kills the process (SCMP_ACT_KILL_PROCESS): a compromised
 * gofer cannot exec, fork, ptrace, mount, connect or map executable memory,
 * and on a read-only root cannot even ask to open for writing.
 *
 * No locks, no state.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/mman.h>

#include "cvisor/util.h"
#include "gofer_impl.h"

static inline void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}
#define _cleanup_seccomp_ _cleanup_(seccomp_releasep)

/* A writable root's name and attribute ops, one syscall each. */
static int allow_writes(scmp_filter_ctx ctx)
{
	static const int plain[] = {
		SCMP_SYS(mkdirat),	/* MKDIR */
		SCMP_SYS(unlinkat),	/* UNLINK */
		SCMP_SYS(symlinkat),	/* SYMLINK */
		SCMP_SYS(fchownat),	/* SETATTR uid/gid */
		SCMP_SYS(fchmodat),	/* SETATTR mode */
		SCMP_SYS(ftruncate),	/* SETATTR size */
		SCMP_SYS(utimensat),	/* SETATTR times */
		SCMP_SYS(fsetxattr),	/* SETXATTR */
		SCMP_SYS(fremovexattr),	/* REMOVEXATTR */
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
		if (r < 0)
			return r;
	}
	/* LINK: linkat(fd, "", dirfd, name, AT_EMPTY_PATH) only, never
	 * AT_SYMLINK_FOLLOW. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(linkat), 1,
			     SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH));
	if (r < 0)
		return r;
	/* RENAME: renameat2 with NOREPLACE/EXCHANGE only, never
	 * RENAME_WHITEOUT (which makes a device node). */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(renameat2), 1,
				SCMP_A4(SCMP_CMP_MASKED_EQ,
					(uint32_t)~(RENAME_NOREPLACE |
						    RENAME_EXCHANGE), 0));
}

int gofer_filter_install(bool readonly)
{
	/* Every entry, with the code that needs it. */
	static const int plain[] = {
		/* serve loop: recv() is recvfrom; replies and donated fds
		 * go by sendmsg; poll() tells a hang-up from an empty
		 * datagram */
		SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(poll),
		/* handles: close (CLOSE, reopened dirs, donated fds),
		 * newfstatat (glibc's fstat/fstatat: WALK, STAT, OPEN's
		 * checks), statx (READDIR_PLUS without the ring), fstatfs
		 * (STATFS), readlinkat (READLINK), lseek and getdents64
		 * (READDIR cookies and listing). WALK_OPEN needs nothing
		 * more: it is WALK's and OPEN's calls (and READLINK's for
		 * a link its LOOKUP bit reads). */
		SCMP_SYS(close), SCMP_SYS(newfstatat), SCMP_SYS(statx),
		SCMP_SYS(fstatfs), SCMP_SYS(readlinkat), SCMP_SYS(lseek),
		SCMP_SYS(getdents64),
		/* GETXATTR, LISTXATTR on a reopened fd */
		SCMP_SYS(fgetxattr), SCMP_SYS(flistxattr),
		/* READDIR_PLUS batches on the ring set up before this filter
		 * (restricted to IORING_OP_STATX; io_uring_setup and
		 * io_uring_register stay refused, so no other ring or op) */
		SCMP_SYS(io_uring_enter),
		/* libc malloc (brk, mmap below, munmap, mremap for realloc,
		 * madvise for free), futex (libc locks), exits */
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
		/* sanitizer runtimes tear down their signal stack at exit */
		SCMP_SYS(sigaltstack),
	};
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
		if (r < 0)
			return r;
	}
	/* mmap and mprotect, never executable. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
			     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r < 0)
		return r;
	/* openat: walks (O_PATH) and reopens; never O_TMPFILE. With only
	 * read-only roots, no O_CREAT and no write access either; with a
	 * writable one (a rw bind mount, --overlay2=none), O_CREAT for
	 * CREATE (O_EXCL, one component) plus allow_writes(). */
	{
		/* glibc's __O_TMPFILE includes O_DIRECTORY: use the bare
		 * kernel bit, or directory reopens would be refused. */
		uint64_t deny = 020000000;

		if (readonly)
			deny |= O_CREAT | O_WRONLY | O_RDWR | O_TRUNC | O_APPEND;
		else if ((r = allow_writes(ctx)) < 0)
			return r;
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, deny, 0));
		if (r < 0)
			return r;
	}
	return seccomp_load(ctx);
}

int gofer_reaper_filter_install(void)
{
	static const int plain[] = {
		SCMP_SYS(wait4), SCMP_SYS(kill), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
		SCMP_SYS(sigaltstack),
	};
	_cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
	int r;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
		if (r < 0)
			return r;
	}
	return seccomp_load(ctx);
}
