/* xattr_test: user.* and trusted.* xattrs on tmpfs. */
#include <sys/stat.h>
#include <sys/xattr.h>
#include "tap.h"

int main(void)
{
	char buf[256];
	char big[65537];
	int fd;

	scratch_init("xattr");
	write_file(SPATH("f"), "x", 1);
	ok_sys(setxattr(SPATH("f"), "user.a", "hello", 5, 0), "setxattr user.a");
	ok(getxattr(SPATH("f"), "user.a", buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5),
	   "getxattr");
	is_long(getxattr(SPATH("f"), "user.a", NULL, 0), 5, "size query");
	is_errno(getxattr(SPATH("f"), "user.a", buf, 2), ERANGE, "small buffer: ERANGE");
	is_errno(getxattr(SPATH("f"), "user.none", buf, sizeof(buf)), ENODATA, "missing: ENODATA");
	is_errno(setxattr(SPATH("f"), "user.a", "x", 1, XATTR_CREATE), EEXIST, "XATTR_CREATE: EEXIST");
	is_errno(setxattr(SPATH("f"), "user.b", "x", 1, XATTR_REPLACE), ENODATA,
		 "XATTR_REPLACE missing: ENODATA");
	ok_sys(setxattr(SPATH("f"), "user.a", "bye", 3, XATTR_REPLACE), "XATTR_REPLACE");
	ok(getxattr(SPATH("f"), "user.a", buf, sizeof(buf)) == 3, "replaced");
	ok_sys(setxattr(SPATH("f"), "user.empty", "", 0, 0), "empty value");
	is_long(getxattr(SPATH("f"), "user.empty", buf, sizeof(buf)), 0, "empty value reads 0");
	ok_sys(setxattr(SPATH("f"), "trusted.t", "T", 1, 0), "trusted.* as root");
	is_errno(setxattr(SPATH("f"), "user.a", "x", 1, 4), EINVAL, "bad flags: EINVAL");
	is_errno(setxattr(SPATH("f"), "", "x", 1, 0), ERANGE, "empty name: ERANGE");
	memset(big, 'n', 300);
	memcpy(big, "user.", 5);
	big[300] = 0;
	is_errno(setxattr(SPATH("f"), big, "x", 1, 0), ERANGE, "name too long: ERANGE");
	is_errno(setxattr(SPATH("f"), "user.big", big, 65537, 0), E2BIG, "value too big: E2BIG");
	is_errno(setxattr(SPATH("f"), "bogus.x", "x", 1, 0), EOPNOTSUPP, "unknown namespace: EOPNOTSUPP");

	ssize_t n = listxattr(SPATH("f"), buf, sizeof(buf));
	int seen_a = 0, seen_t = 0, seen_e = 0;
	for (ssize_t i = 0; n > 0 && i < n; i += strlen(buf + i) + 1) {
		seen_a |= !strcmp(buf + i, "user.a");
		seen_t |= !strcmp(buf + i, "trusted.t");
		seen_e |= !strcmp(buf + i, "user.empty");
	}
	ok(seen_a && seen_t && seen_e, "listxattr lists the names");
	is_long(listxattr(SPATH("f"), NULL, 0), n, "listxattr size query");
	is_errno(listxattr(SPATH("f"), buf, 3), ERANGE, "listxattr small: ERANGE");

	fd = open(SPATH("f"), O_RDONLY);
	ok_sys(fsetxattr(fd, "user.fd", "1", 1, 0), "fsetxattr on a read-only fd");
	ok(fgetxattr(fd, "user.fd", buf, sizeof(buf)) == 1, "fgetxattr");
	ok(flistxattr(fd, buf, sizeof(buf)) > 0, "flistxattr");
	ok_sys(fremovexattr(fd, "user.fd"), "fremovexattr");
	is_errno(fgetxattr(-1, "user.fd", buf, sizeof(buf)), EBADF, "bad fd: EBADF");
	close(fd);
	ok_sys(removexattr(SPATH("f"), "user.a"), "removexattr");
	is_errno(removexattr(SPATH("f"), "user.a"), ENODATA, "remove again: ENODATA");

	symlink("f", SPATH("l"));
	is_errno(lsetxattr(SPATH("l"), "user.x", "1", 1, 0), EPERM, "user.* on a symlink: EPERM");
	is_errno(lgetxattr(SPATH("l"), "user.x", buf, sizeof(buf)), ENODATA,
		 "lgetxattr user.* on a symlink: ENODATA");
	ok_sys(lsetxattr(SPATH("l"), "trusted.x", "1", 1, 0), "trusted.* on a symlink");
	ok(getxattr(SPATH("l"), "trusted.t", buf, sizeof(buf)) == 1, "getxattr follows");
	ok(llistxattr(SPATH("l"), buf, sizeof(buf)) > 0, "llistxattr");
	ok_sys(lremovexattr(SPATH("l"), "trusted.x"), "lremovexattr");
	mkdir(SPATH("d"), 0755);
	ok_sys(setxattr(SPATH("d"), "user.d", "1", 1, 0), "user.* on a directory");
	scratch_cleanup();
	return done_testing();
}
