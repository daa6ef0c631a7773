/* prctl: NAME, PDEATHSIG, NO_NEW_PRIVS, DUMPABLE, CHILD_SUBREAPER, CAPBSET_READ,
 * KEEPCAPS, unknown options. */
#include "tap.h"

#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>

int main(void)
{
	char name[32];
	int v;

	is_long(prctl(PR_SET_NAME, "cvisor-test", 0, 0, 0), 0, "PR_SET_NAME");
	memset(name, 'x', sizeof(name));
	is_long(prctl(PR_GET_NAME, name, 0, 0, 0), 0, "PR_GET_NAME");
	ok(!strcmp(name, "cvisor-test"), "name read back (%s)", name);
	is_long(prctl(PR_SET_NAME, "0123456789abcdefghij", 0, 0, 0), 0, "PR_SET_NAME long");
	prctl(PR_GET_NAME, name, 0, 0, 0);
	ok(!strcmp(name, "0123456789abcde"), "truncated to 15 bytes (%s)", name);
	is_errno(prctl(PR_SET_NAME, BAD_PTR, 0, 0, 0), EFAULT, "PR_SET_NAME bad pointer -> EFAULT");
	is_errno(prctl(PR_GET_NAME, BAD_PTR, 0, 0, 0), EFAULT, "PR_GET_NAME bad pointer -> EFAULT");

	is_long(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0), 0, "PR_SET_PDEATHSIG");
	v = -1;
	is_long(prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0), 0, "PR_GET_PDEATHSIG");
	is_long(v, SIGUSR1, "pdeath signal read back");
	is_errno(prctl(PR_SET_PDEATHSIG, 65, 0, 0, 0), EINVAL, "PR_SET_PDEATHSIG 65 -> EINVAL");
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);

	is_long(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0, "PR_SET_DUMPABLE 0");
	is_long(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0, "PR_GET_DUMPABLE -> 0");
	is_long(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0, "PR_SET_DUMPABLE 1");
	is_long(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1, "PR_GET_DUMPABLE -> 1");
	is_errno(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL, "PR_SET_DUMPABLE 2 -> EINVAL");

	is_errno(prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0), EINVAL, "NO_NEW_PRIVS with arg3 -> EINVAL");
	is_errno(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0), EINVAL, "NO_NEW_PRIVS 2 -> EINVAL");
	is_long(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0, "PR_SET_NO_NEW_PRIVS");
	is_long(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1, "PR_GET_NO_NEW_PRIVS -> 1");
	is_errno(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL, "PR_GET_NO_NEW_PRIVS arg -> EINVAL");

	v = -1;
	is_long(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0), 0, "PR_GET_CHILD_SUBREAPER");
	is_long(v, 0, "not a subreaper");
	is_long(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0, "PR_SET_CHILD_SUBREAPER");
	prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0);
	is_long(v, 1, "now a subreaper");

	is_long(prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0), 1, "CAPBSET_READ CAP_CHOWN (root)");
	is_errno(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0), EINVAL, "CAPBSET_READ 1000 -> EINVAL");
	is_long(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 0, "PR_GET_KEEPCAPS -> 0");
	is_long(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0, "PR_SET_KEEPCAPS 1");
	is_long(prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0), 1, "PR_GET_KEEPCAPS -> 1");
	is_errno(prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0), EINVAL, "PR_SET_KEEPCAPS 2 -> EINVAL");
	is_errno(prctl(0x7fff1234, 0, 0, 0, 0), EINVAL, "unknown option -> EINVAL");
	return done_testing();
}
