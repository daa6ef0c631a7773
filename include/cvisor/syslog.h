/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sandbox kernel log (sentry/kernel/syslog.c): a ring of text records
 * hanging off struct kernel (k->syslog), made on first use with the boot
 * messages of the sandbox, read by syslog(2) (busybox and util-linux dmesg).
 * Thread-safe; takes its own lock only (a leaf), and kernel->lock / the vfs
 * lock once, when the boot messages are written.
 */
#ifndef CVISOR_SYSLOG_H
#define CVISOR_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct kernel;

/* Append one message at a printk level (6 = KERN_INFO). */
/* Free the ring at sandbox teardown (no task may use it any more). */
void syslog_free(struct kernel *k);
void syslog_printk(struct kernel *k, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* syslog(2) (kernel/printk/printk.c do_syslog) into a sentry buffer:
 * returns bytes, a size, 0, or -errno. cap_syslog: the caller holds
 * CAP_SYSLOG or CAP_SYS_ADMIN. */
long syslog_do(struct kernel *k, int type, char *buf, int len, bool cap_syslog);

#endif
