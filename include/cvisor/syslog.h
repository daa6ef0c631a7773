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
#include <stdint.h>
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

/* /dev/kmsg (Documentation/ABI/testing/dev-kmsg): records numbered by a
 * sequence number from boot. A reader keeps its own *seq. */
struct waitq;
/* The oldest record still in the ring (open, SEEK_SET/SEEK_DATA) or the
 * next one to come (SEEK_END); -ENOMEM if the ring cannot be made. */
int syslog_kmsg_seq(struct kernel *k, bool end, uint64_t *seq);
/* Record *seq as "prio,seq,usec,-;text\n" into buf and advance *seq.
 * -EAGAIN: no such record yet; -EPIPE: it was overwritten (*seq moves to
 * the oldest); -EINVAL: buf is too small for it. */
long syslog_kmsg_read(struct kernel *k, uint64_t *seq, char *buf, size_t len);
/* devkmsg_write: one record from buf, with an optional "<prio>" prefix
 * (facility 0 becomes LOG_USER); returns len or -errno. */
long syslog_kmsg_write(struct kernel *k, const char *buf, size_t len);
/* Woken (all events) when a record is added. NULL on -ENOMEM. */
struct waitq *syslog_kmsg_waitq(struct kernel *k);

#endif
