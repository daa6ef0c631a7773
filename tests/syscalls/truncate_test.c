/* truncate_test: truncate/ftruncate/fallocate on tmpfs. */
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "tap.h"

int main(void)
{
	struct stat st;
	char buf[8192];
	int fd, ro;

	scratch_init("trunc");
	write_file(SPATH("f"), "0123456789", 10);
	ok_sys(truncate(SPATH("f"), 4), "truncate shrink");
	ok(stat(SPATH("f"), &st) == 0 && st.st_size == 4, "size 4");
	ok_sys(truncate(SPATH("f"), 8192), "truncate grow");
	fd = open(SPATH("f"), O_RDWR);
	ok(pread(fd, buf, 8192, 0) == 8192 && !memcmp(buf, "0123", 4) && buf[4] == 0 &&
	   buf[8191] == 0, "grown part reads as zero");
	is_errno(truncate(SPATH("f"), -1), EINVAL, "negative length: EINVAL");
	is_errno(truncate(SPATH("missing"), 0), ENOENT, "missing: ENOENT");
	mkdir(SPATH("d"), 0755);
	is_errno(truncate(SPATH("d"), 0), EISDIR, "directory: EISDIR");
	ok_sys(ftruncate(fd, 2), "ftruncate");
	ok(fstat(fd, &st) == 0 && st.st_size == 2, "size 2");
	is_errno(ftruncate(fd, -5), EINVAL, "ftruncate negative: EINVAL");
	ro = open(SPATH("f"), O_RDONLY);
	is_errno(ftruncate(ro, 0), EINVAL, "ftruncate read-only fd: EINVAL");
	is_errno(ftruncate(-1, 0), EBADF, "ftruncate bad fd: EBADF");
	int dfd = open(SPATH("d"), O_RDONLY);
	is_errno(ftruncate(dfd, 0), EINVAL, "ftruncate directory: EINVAL");
	close(dfd);

	/* fallocate */
	ok_sys(fallocate(fd, 0, 0, 10000), "fallocate mode 0");
	ok(fstat(fd, &st) == 0 && st.st_size == 10000 && st.st_blocks >= 16, "size and blocks grew");
	ok_sys(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20000), "KEEP_SIZE");
	ok(fstat(fd, &st) == 0 && st.st_size == 10000 && st.st_blocks >= 40, "size kept, blocks grew");
	pwrite(fd, "abcdefgh", 8, 4096);
	ok_sys(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096), "PUNCH_HOLE");
	ok(pread(fd, buf, 8, 4096) == 8 && buf[0] == 0 && buf[7] == 0, "hole reads zero");
	ok(fstat(fd, &st) == 0 && st.st_size == 10000, "size unchanged by punch");
	is_errno(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP,
		 "PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP");
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == 0x01021994)
		is_errno(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), EOPNOTSUPP,
			 "COLLAPSE_RANGE on tmpfs: EOPNOTSUPP");
	else
		skip("scratch dir is not tmpfs", "COLLAPSE_RANGE on tmpfs: EOPNOTSUPP");
	is_errno(fallocate(fd, 0, -1, 10), EINVAL, "negative offset: EINVAL");
	is_errno(fallocate(fd, 0, 0, 0), EINVAL, "zero length: EINVAL");
	is_errno(fallocate(ro, 0, 0, 10), EBADF, "read-only fd: EBADF");
	is_errno(fallocate(-1, 0, 0, 10), EBADF, "bad fd: EBADF");
	close(ro);
	close(fd);

	/* O_TRUNC */
	fd = open(SPATH("f"), O_WRONLY | O_TRUNC);
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC");
	close(fd);
	scratch_cleanup();
	return done_testing();
}
