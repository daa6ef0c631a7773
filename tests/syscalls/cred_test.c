/* Credentials: set*uid/set*gid transitions and EPERM, getres*id, setgroups,
 * setfs*id, capget/capset. Everything that drops root runs in a child. */
#include "tap.h"

#include <grp.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/wait.h>

static int capget_eff(uint32_t *eff)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d))
		return -1;
	*eff = d[0].effective;
	return 0;
}

static int run(int (*fn)(void))
{
	int st;
	pid_t c = fork();
	if (c == 0)
		_exit(fn());
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Each returns 0 on success, else the number of the failed step. */
static int drop_all(void)
{
	uid_t r, e, s;
	uint32_t eff;
	if (setgid(1000)) return 1;
	if (setuid(1000)) return 2;
	if (getresuid(&r, &e, &s) || r != 1000 || e != 1000 || s != 1000) return 3;
	if (setuid(0) != -1 || errno != EPERM) return 4;
	if (capget_eff(&eff) || eff != 0) return 5;
	if (setgroups(0, NULL) != -1 || errno != EPERM) return 6;
	if (setresuid(-1, 1000, -1)) return 7;	/* allowed: own id */
	if (setreuid(2000, -1) != -1 || errno != EPERM) return 8;
	if (setfsuid(1000) != 1000) return 9;	/* returns the old fsuid */
	return 0;
}

static int keep_saved(void)
{
	uid_t r, e, s;
	uint32_t eff;
	if (setresuid(1000, 1000, 0)) return 1;
	if (capget_eff(&eff) || eff != 0) return 2;
	if (setresuid(-1, 0, -1)) return 3;	/* back to euid 0 from the saved id */
	if (getresuid(&r, &e, &s) || r != 1000 || e != 0 || s != 0) return 4;
	if (capget_eff(&eff) || eff == 0) return 5;	/* effective caps come back */
	if (setreuid(-1, 1000)) return 6;
	/* euid == ruid: the saved id stays (kernel/sys.c setreuid). */
	if (getresuid(&r, &e, &s) || e != 1000 || s != 0) return 7;
	if (setreuid(1000, 1000)) return 8;
	if (getresuid(&r, &e, &s) || s != 1000) return 9;	/* ruid given: saved follows */
	return 0;
}

static int groups_and_gids(void)
{
	gid_t g[4] = { 30, 10, 20, 0 };
	gid_t r, e, s;
	if (setgroups(3, g)) return 1;
	gid_t out[8];
	int n = getgroups(8, out);
	if (n != 3) return 2;
	if (setresgid(5, 6, 7)) return 3;
	if (getresgid(&r, &e, &s) || r != 5 || e != 6 || s != 7) return 4;
	if (setregid(8, 9)) return 5;
	if (getresgid(&r, &e, &s) || r != 8 || e != 9 || s != 9) return 6;
	if (setfsgid(9) != 9) return 7;
	return 0;
}

static int cap_drop_raise(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d)) return 1;
	d[0].permitted &= ~(1u << CAP_NET_RAW);
	d[0].effective &= ~(1u << CAP_NET_RAW);
	if (syscall(SYS_capset, &h, d)) return 2;
	d[0].permitted |= 1u << CAP_NET_RAW;
	if (syscall(SYS_capset, &h, d) != -1 || errno != EPERM) return 3;
	d[0].permitted &= ~(1u << CAP_NET_RAW);
	d[0].effective |= 1u << CAP_NET_RAW;	/* effective beyond permitted */
	if (syscall(SYS_capset, &h, d) != -1 || errno != EPERM) return 4;
	return 0;
}

int main(void)
{
	uid_t r, e, s;
	if (getuid() != 0) {
		skip("not root", "cred tests need root");
		return done_testing();
	}
	is_long(getresuid(&r, &e, &s), 0, "getresuid");
	ok(r == 0 && e == 0 && s == 0, "root: 0/0/0");
	is_errno(syscall(SYS_getresuid, BAD_PTR, &e, &s), EFAULT, "getresuid bad pointer -> EFAULT");
	is_errno(setuid(-1), EINVAL, "setuid(-1) -> EINVAL");
	is_errno(setgid(-1), EINVAL, "setgid(-1) -> EINVAL");
	is_long(run(drop_all), 0, "setuid(1000) drops everything for good");
	is_long(run(keep_saved), 0, "a saved uid of 0 lets euid return with its caps");
	is_long(run(groups_and_gids), 0, "setgroups/setresgid/setregid/setfsgid");

	struct __user_cap_header_struct h = { 0x12345678, 0 };
	struct __user_cap_data_struct d[2];
	is_errno(syscall(SYS_capget, &h, d), EINVAL, "capget bad version -> EINVAL");
	is_long(h.version, _LINUX_CAPABILITY_VERSION_3, "and the preferred version is written back");
	h.version = 0x12345678;
	is_long(syscall(SYS_capget, &h, NULL), 0, "capget version probe with NULL data -> 0");
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	is_long(syscall(SYS_capget, &h, d), 0, "capget v3");
	ok(d[0].effective & (1u << CAP_SETUID), "root has CAP_SETUID in effective");
	h.pid = -1;
	is_errno(syscall(SYS_capget, &h, d), EINVAL, "capget pid -1 -> EINVAL");
	h.pid = 0x3ffffff;
	is_errno(syscall(SYS_capget, &h, d), ESRCH, "capget no such pid -> ESRCH");
	h.pid = 0;
	syscall(SYS_capget, &h, d);
	d[0].effective = d[0].permitted | 0;	/* unchanged */
	is_long(syscall(SYS_capset, &h, d), 0, "capset to the same set");
	is_long(run(cap_drop_raise), 0, "capset drops; raising permitted or effective -> EPERM");
	h.pid = 1234567;
	is_errno(syscall(SYS_capset, &h, d), EPERM, "capset of another pid -> EPERM");
	return done_testing();
}
