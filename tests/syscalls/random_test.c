/* getrandom and /dev/urandom, /dev/random. getrandom(2), drivers/char/random.c. */
#include "tap.h"

#include <sys/random.h>

static int all_same(const unsigned char *b, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (b[i] != b[0])
			return 0;
	return 1;
}

int main(void)
{
	unsigned char a[256], b[256];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	is_long(syscall(SYS_getrandom, a, sizeof(a), 0), 256, "getrandom 256 bytes flags 0");
	is_long(syscall(SYS_getrandom, b, sizeof(b), 0), 256, "getrandom again");
	ok(memcmp(a, b, sizeof(a)) != 0, "two draws differ");
	ok(!all_same(a, sizeof(a)), "output is not constant");
	is_long(syscall(SYS_getrandom, a, 16, GRND_NONBLOCK), 16, "GRND_NONBLOCK");
	is_long(syscall(SYS_getrandom, a, 16, GRND_RANDOM), 16, "GRND_RANDOM");
	long r = syscall(SYS_getrandom, a, 16, GRND_RANDOM | GRND_NONBLOCK);
	ok(r == 16 || (r == -1 && errno == EAGAIN), "GRND_RANDOM|GRND_NONBLOCK: 16 or EAGAIN");
	r = syscall(SYS_getrandom, a, 16, GRND_INSECURE);
	ok(r == 16, "GRND_INSECURE (Linux >= 5.6)");
	is_errno(syscall(SYS_getrandom, a, 16, GRND_INSECURE | GRND_RANDOM), EINVAL,
		 "GRND_INSECURE|GRND_RANDOM -> EINVAL");
	is_errno(syscall(SYS_getrandom, a, 16, 0x80), EINVAL, "unknown flag -> EINVAL");
	is_errno(syscall(SYS_getrandom, a, 16, -1), EINVAL, "flags -1 -> EINVAL");
	is_long(syscall(SYS_getrandom, a, 0, 0), 0, "zero length returns 0");
	is_errno(syscall(SYS_getrandom, BAD_PTR, 16, 0), EFAULT, "buffer (void*)1 -> EFAULT");
	is_errno(syscall(SYS_getrandom, KERNEL_PTR, 16, 0), EFAULT, "buffer kernel address -> EFAULT");

	/* Large requests may be short but must return something positive. */
	static unsigned char big[1 << 20];
	r = syscall(SYS_getrandom, big, sizeof(big), 0);
	ok(r > 0 && r <= (long)sizeof(big), "1 MiB request returns 1..1MiB (%ld)", r);
	ok(!all_same(big + r - 64, 64), "tail of large request filled");

	/* Rough uniformity: 64 KiB should see all 256 byte values. */
	int seen[256] = { 0 }, distinct = 0;
	for (long i = 0; i < 65536 && i < r; i++)
		seen[big[i]]++;
	for (int i = 0; i < 256; i++)
		distinct += seen[i] > 0;
	is_long(distinct, 256, "all byte values appear in 64 KiB");

	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/urandom", O_RDONLY);
	ok_sys(fd, "open /dev/urandom");
	is_long(syscall(SYS_read, fd, a, sizeof(a)), 256, "read /dev/urandom 256");
	is_long(syscall(SYS_read, fd, b, sizeof(b)), 256, "read again");
	ok(memcmp(a, b, sizeof(a)) != 0, "urandom reads differ");
	is_errno(syscall(SYS_read, fd, BAD_PTR, 16), EFAULT, "read urandom into (void*)1 -> EFAULT");
	syscall(SYS_close, fd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/random", O_RDONLY);
	ok_sys(fd, "open /dev/random");
	is_long(syscall(SYS_read, fd, a, 32), 32, "read /dev/random 32");
	syscall(SYS_close, fd);
	fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/urandom", O_WRONLY);
	is_long(syscall(SYS_write, fd, "seed", 4), 4, "write to /dev/urandom is accepted");
	syscall(SYS_close, fd);
	return done_testing();
}
