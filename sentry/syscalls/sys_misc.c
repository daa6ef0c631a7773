// SPDX-License-Identifier: GPL-2.0
/*
 * uname, sysinfo, getrandom. The kernel identity is cvisor's own: a workload
 * can tell it is sandboxed (like runsc's "4.4.0") and never learns the host
 * kernel's release.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include "cvisor/mm.h"
#include "cvisor/syscall.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/version.h"

SYSCALL_DEFINE(uname)
{
	struct utsname u;

	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	pthread_mutex_lock(&t->k->lock);
	snprintf(u.nodename, sizeof(u.nodename), "%s", t->k->hostname);
	snprintf(u.domainname, sizeof(u.domainname), "%s", t->k->domainname);
	pthread_mutex_unlock(&t->k->lock);
	strcpy(u.release, CVISOR_KERNEL_RELEASE);
	strcpy(u.version, CVISOR_KERNEL_VERSION);
	strcpy(u.machine, "x86_64");
	if (mm_copy_out(t->mm, args->a[0], &u, sizeof(u)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(sysinfo)
{
	struct sysinfo si, host;

	memset(&si, 0, sizeof(si));
	if (sysinfo(&host) == 0) {
		si.totalram = host.totalram;
		si.freeram = host.freeram;
		si.sharedram = 0;
		si.bufferram = 0;
		si.mem_unit = host.mem_unit;
		/* Load averages are the sandbox's own: not tracked yet. */
	}
	{
		/* kernel/sys.c do_sysinfo rounds a started second up. */
		uint64_t up = util_now_ns() - t->k->boot_ns;

		si.uptime = (long)(up / 1000000000ULL + (up % 1000000000ULL ? 1 : 0));
	}
	pthread_mutex_lock(&t->k->lock);
	si.procs = (unsigned short)t->k->nr_tasks;
	pthread_mutex_unlock(&t->k->lock);
	if (mm_copy_out(t->mm, args->a[0], &si, sizeof(si)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE(getrandom)
{
	unsigned int flags = (unsigned int)args->a[2];
	uint64_t len = args->a[1], done = 0, addr = args->a[0];
	char buf[4096];

	/* drivers/char/random.c: GRND_INSECURE and GRND_RANDOM exclude each
	 * other; unknown bits are EINVAL; at most INT_MAX bytes per call. */
	if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	if ((flags & (GRND_INSECURE | GRND_RANDOM)) ==
	    (GRND_INSECURE | GRND_RANDOM))
		return -EINVAL;
	if (len > 0x7fffffff)
		len = 0x7fffffff;
	while (done < len) {
		/* Page-sized pieces: a fault part-way returns what was
		 * copied, as drivers/char/random.c's get_random_bytes_user. */
		uint64_t pos = addr + done;
		size_t n = (size_t)MIN(len - done, PAGE_SIZE - (pos & (PAGE_SIZE - 1)));
		ssize_t r = getrandom(buf, n, flags & GRND_NONBLOCK);

		if (r < 0)
			return done ? (long)done : -errno;
		if (mm_copy_out(t->mm, pos, buf, (size_t)r))
			return done ? (long)done : -EFAULT;
		done += (uint64_t)r;
		/* Large requests may return early (man getrandom: more than
		 * 256 bytes can be cut short); keep latency bounded. */
		if (done >= (1U << 25))
			break;
	}
	return (long)done;
}
