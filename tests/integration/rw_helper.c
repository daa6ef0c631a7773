// SPDX-License-Identifier: GPL-2.0
/*
 * One file syscall per run for tests/integration/test_rw.sh, with its
 * result as "ok" or the errno's name, so the script can check exact
 * errors inside the sandbox (coreutils would retry or fall back: mv copies
 * on EXDEV). Built static by the script; runs natively too.
 *   rw_helper chmod P MODE | chown P U G | lchown P U G |
 *             utimens P ASEC|now|omit MSEC|now|omit | truncate P SIZE |
 *             symlink TARGET P | link OLD NEW |
 *             rename OLD NEW [noreplace|exchange] | stat P |
 *             setxattr P NAME VALUE [create|replace] | getxattr P NAME |
 *             removexattr P NAME
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char *ename(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ EROFS, "EROFS" }, { EEXIST, "EEXIST" }, { EXDEV, "EXDEV" },
		{ ENOENT, "ENOENT" }, { EPERM, "EPERM" }, { EINVAL, "EINVAL" },
		{ ENOTEMPTY, "ENOTEMPTY" }, { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" }, { EACCES, "EACCES" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EBUSY, "EBUSY" },
		{ ENODATA, "ENODATA" },
	};
	static char buf[16];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static struct timespec ts_arg(const char *a)
{
	struct timespec ts = { 0, 0 };

	if (!strcmp(a, "now"))
		ts.tv_nsec = UTIME_NOW;
	else if (!strcmp(a, "omit"))
		ts.tv_nsec = UTIME_OMIT;
	else
		ts.tv_sec = atol(a);
	return ts;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	int r = -1;

	errno = EINVAL;
	if (!strcmp(op, "chmod") && argc == 4) {
		r = chmod(argv[2], (mode_t)strtol(argv[3], NULL, 8));
	} else if (!strcmp(op, "chown") && argc == 5) {
		r = chown(argv[2], (uid_t)atoi(argv[3]), (gid_t)atoi(argv[4]));
	} else if (!strcmp(op, "lchown") && argc == 5) {
		r = lchown(argv[2], (uid_t)atoi(argv[3]), (gid_t)atoi(argv[4]));
	} else if (!strcmp(op, "utimens") && argc == 5) {
		struct timespec ts[2] = { ts_arg(argv[3]), ts_arg(argv[4]) };

		r = utimensat(AT_FDCWD, argv[2], ts, 0);
	} else if (!strcmp(op, "truncate") && argc == 4) {
		r = truncate(argv[2], atol(argv[3]));
	} else if (!strcmp(op, "symlink") && argc == 4) {
		r = symlink(argv[2], argv[3]);
	} else if (!strcmp(op, "link") && argc == 4) {
		r = link(argv[2], argv[3]);
	} else if (!strcmp(op, "rename") && (argc == 4 || argc == 5)) {
		unsigned int fl = 0;

		if (argc == 5)
			fl = !strcmp(argv[4], "noreplace") ? RENAME_NOREPLACE
			     : !strcmp(argv[4], "exchange") ? RENAME_EXCHANGE
							    : ~0U;
		r = renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], fl);
	} else if (!strcmp(op, "setxattr") && (argc == 5 || argc == 6)) {
		int fl = argc == 5 ? 0
			 : !strcmp(argv[5], "create") ? XATTR_CREATE
						       : XATTR_REPLACE;

		r = setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), fl);
	} else if (!strcmp(op, "getxattr") && argc == 4) {
		char v[256];
		ssize_t n = getxattr(argv[2], argv[3], v, sizeof(v) - 1);

		if (n >= 0) {
			v[n] = '\0';
			printf("getxattr %s\n", v);
			return 0;
		}
	} else if (!strcmp(op, "removexattr") && argc == 4) {
		r = removexattr(argv[2], argv[3]);
	} else if (!strcmp(op, "stat") && argc == 3) {
		struct stat st;

		r = lstat(argv[2], &st);
		if (r == 0) {
			printf("%o %u %u %lld %lu %lu %lld %lld\n",
			       st.st_mode & 07777, st.st_uid, st.st_gid,
			       (long long)st.st_size, (unsigned long)st.st_nlink,
			       (unsigned long)st.st_ino,
			       (long long)st.st_atim.tv_sec,
			       (long long)st.st_mtim.tv_sec);
			return 0;
		}
	}
	printf("%s %s\n", op, r == 0 ? "ok" : ename(errno));
	return r == 0 ? 0 : 1;
}
