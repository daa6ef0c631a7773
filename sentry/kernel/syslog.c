// SPDX-License-Identifier: GPL-2.0
/*
 * The sandbox's kernel log: what dmesg shows inside. Records are kept as
 * the text syslog(2) returns ("<6>[    0.000123] message\n") in a byte ring
 * of SYSLOG_BYTES; the oldest whole records go when it is full, like the
 * printk ring. Messages are the sentry's own (boot: version, platform,
 * memory, mounts); nothing of the host's log is ever read.
 *
 * /dev/kmsg readers (vfs/fs/devfs.c) name records by sequence number:
 * first_seq is the oldest record in the ring, next_seq the next to come;
 * a record never contains '\n' (message newlines become spaces), so the
 * n-th record is found by counting newlines.
 *
 * Locks: syslog->lock, a leaf; the kmsg wait queue is woken after it is
 * dropped. Creation (first use) is a compare-and-swap
 * on k->syslog; the boot messages read k->hostname under kernel->lock and
 * the mount list under vfs->lock before the ring is published.
 *
 * Ownership: the ring belongs to the kernel; nothing frees it before the
 * process exits (struct kernel has no destructor hook for it yet).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "cvisor/syslog.h"
#include "cvisor/task.h"
#include "cvisor/util.h"
#include "cvisor/version.h"
#include "cvisor/waitq.h"
#include "../../vfs/vfs_impl.h"

#define SYSLOG_BYTES (128 * 1024)	/* CONFIG_LOG_BUF_SHIFT=17 */

struct syslog {
	pthread_mutex_t lock;
	size_t len;		/* bytes in buf, oldest first */
	size_t unread;		/* bytes from the end not yet read (READ) */
	uint64_t first_seq, next_seq; /* /dev/kmsg numbering */
	struct waitq wq;	/* /dev/kmsg readers */
	char buf[SYSLOG_BYTES];
};

static void ring_clear(struct syslog *s)
{
	s->len = s->unread = 0;
	s->first_seq = s->next_seq;
}

static void ring_append(struct syslog *s, const char *rec, size_t n)
{
	if (n > SYSLOG_BYTES)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->len + n > SYSLOG_BYTES) {
		/* Drop whole records from the front. */
		size_t drop = s->len + n - SYSLOG_BYTES;
		char *nl = memchr(s->buf + drop - 1, '\n', s->len - drop + 1);

		drop = nl ? (size_t)(nl - s->buf) + 1 : s->len;
		for (size_t i = 0; i < drop; i++)
			s->first_seq += s->buf[i] == '\n';
		memmove(s->buf, s->buf + drop, s->len - drop);
		s->len -= drop;
		if (s->unread > s->len)
			s->unread = s->len;
	}
	memcpy(s->buf + s->len, rec, n);
	s->len += n;
	s->unread = MIN(s->unread + n, s->len);
	s->next_seq++;
	pthread_mutex_unlock(&s->lock);
	waitq_wake(&s->wq, ~0ULL);
}

/* One record "<prio>[sec.usec] msg\n"; newlines in msg become spaces so
 * that one line is one record. */
static void emit(struct syslog *s, uint64_t ns, int prio, const char *msg,
		 size_t len)
{
	char rec[1100];
	int n;

	n = snprintf(rec, sizeof(rec), "<%d>[%5llu.%06llu] ", prio,
		     (unsigned long long)(ns / 1000000000ULL),
		     (unsigned long long)(ns % 1000000000ULL / 1000));
	if (n <= 0)
		return;
	len = MIN(len, sizeof(rec) - (size_t)n - 1);
	for (size_t i = 0; i < len; i++)
		rec[n + i] = msg[i] == '\n' ? ' ' : msg[i];
	rec[n + len] = '\n';
	ring_append(s, rec, (size_t)n + len + 1);
}

static void vrecord(struct syslog *s, uint64_t ns, int level, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= 0)
		emit(s, ns, level & 7, msg, MIN((size_t)n, sizeof(msg) - 1));
}

static void record(struct syslog *s, uint64_t ns, int level, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
static void record(struct syslog *s, uint64_t ns, int level, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrecord(s, ns, level, fmt, ap);
	va_end(ap);
}

static const char *mount_type(enum fs_kind kind)
{
	switch (kind) {
	case FS_GOFER:
		return "9p (gofer)";
	case FS_TMPFS:
	case FS_DEVFS:
		return "tmpfs";
	case FS_OVERLAY:
		return "overlay (memory upper over gofer)";
	case FS_PROC:
		return "proc";
	case FS_SYSFS:
		return "sysfs";
	case FS_MQUEUE:
		return "mqueue";
	case FS_HOST:
		return "host";
	}
	return "?";
}

/* What the sandbox says when it boots: timestamps are the moments of the
 * steps (all at start-up), from the kernel's boot time. */
static void boot_messages(struct kernel *k, struct syslog *s)
{
	struct sysinfo si;
	char host[65];
	uint64_t t = 1000;

	record(s, 0, 5, "Linux version %s (cvisor@cvisor) (gcc) %s",
	       CVISOR_KERNEL_RELEASE, CVISOR_KERNEL_VERSION);
	record(s, t, 6, "Starting cvisor %s (application kernel)...",
	       CVISOR_VERSION);
	record(s, t += 1000, 6, "Platform: %s",
	       k->platform && k->platform->ops ? k->platform->ops->name : "?");
	if (sysinfo(&si) == 0)
		record(s, t += 1000, 6, "Memory: %lluK total, %lluK available",
		       (unsigned long long)si.totalram * si.mem_unit / 1024,
		       (unsigned long long)si.freeram * si.mem_unit / 1024);
	record(s, t += 1000, 6, "smp: %ld CPUs online",
	       MAX(sysconf(_SC_NPROCESSORS_ONLN), 1L));
	pthread_mutex_lock(&k->lock);
	snprintf(host, sizeof(host), "%s", k->hostname);
	pthread_mutex_unlock(&k->lock);
	record(s, t += 1000, 6, "Hostname: %s", host);
	if (k->vfs) {
		struct vfs *vfs = k->vfs;
		struct mount *m;

		pthread_mutex_lock(&vfs->lock);
		list_for_each_entry(m, &vfs->mounts, link) {
			char path[VFS_PATH_MAX];
			struct path p = { .mnt = m, .dentry = m->root };
			struct path root = { .mnt = vfs->root_mnt,
					     .dentry = vfs->root_mnt->root };

			if (vfs_path_name(vfs, &root, &p, path, sizeof(path)) < 0)
				continue;
			record(s, t += 1000, 6, "Mounted %s on %s%s",
			       mount_type(m->sb->kind), path,
			       m->sb->readonly ? " (ro)" : "");
		}
		pthread_mutex_unlock(&vfs->lock);
	}
	record(s, t += 1000, 6, "Run /sbin/init as init process (cvisor: the "
	       "container's command)");
}

static struct syslog *syslog_get(struct kernel *k)
{
	struct syslog *s = __atomic_load_n(&k->syslog, __ATOMIC_ACQUIRE), *exp = NULL;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	waitq_init(&s->wq);
	boot_messages(k, s);
	if (!__atomic_compare_exchange_n(&k->syslog, &exp, s, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		waitq_destroy(&s->wq);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return exp;
	}
	return s;
}

void syslog_free(struct kernel *k)
{
	struct syslog *s = k->syslog;

	if (!s)
		return;
	k->syslog = NULL;
	waitq_destroy(&s->wq);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void syslog_printk(struct kernel *k, int level, const char *fmt, ...)
{
	struct syslog *s = syslog_get(k);
	va_list ap;

	if (!s)
		return;
	va_start(ap, fmt);
	vrecord(s, util_now_ns() - k->boot_ns, level, fmt, ap);
	va_end(ap);
}

/* syslog(2) types (include/linux/syslog.h). */
enum {
	SL_CLOSE, SL_OPEN, SL_READ, SL_READ_ALL, SL_READ_CLEAR, SL_CLEAR,
	SL_CONSOLE_OFF, SL_CONSOLE_ON, SL_CONSOLE_LEVEL, SL_SIZE_UNREAD,
	SL_SIZE_BUFFER,
};

long syslog_do(struct kernel *k, int type, char *buf, int len, bool cap_syslog)
{
	struct syslog *s;
	long r = 0;

	/* check_syslog_permissions() with dmesg_restrict = 0: reading all
	 * and the buffer size are open to everyone. */
	if (type != SL_READ_ALL && type != SL_SIZE_BUFFER && !cap_syslog)
		return -EPERM;
	if (type < SL_CLOSE || type > SL_SIZE_BUFFER)
		return -EINVAL;
	s = syslog_get(k);
	if (!s)
		return -ENOMEM;
	switch (type) {
	case SL_CLOSE:
	case SL_OPEN:
	case SL_CONSOLE_OFF:
	case SL_CONSOLE_ON:
		return 0;
	case SL_CONSOLE_LEVEL:
		return (len < 1 || len > 8) ? -EINVAL : 0;
	case SL_SIZE_BUFFER:
		return SYSLOG_BYTES;
	case SL_SIZE_UNREAD:
		pthread_mutex_lock(&s->lock);
		r = (long)s->unread;
		pthread_mutex_unlock(&s->lock);
		return r;
	case SL_CLEAR:
		pthread_mutex_lock(&s->lock);
		ring_clear(s);
		pthread_mutex_unlock(&s->lock);
		return 0;
	case SL_READ:
	case SL_READ_ALL:
	case SL_READ_CLEAR:
		break;
	}
	if (!buf || len < 0)
		return -EINVAL;
	if (!len)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (type == SL_READ) {
		/* Consumes; returns what is unread now rather than blocking
		 * (there is no writer that could wake it later but us). */
		size_t n = MIN((size_t)len, s->unread);

		memcpy(buf, s->buf + s->len - s->unread, n);
		s->unread -= n;
		r = (long)n;
	} else {
		/* The newest whole records that fit (syslog_print_all). */
		size_t start = 0;

		if (s->len > (size_t)len) {
			char *nl = memchr(s->buf + s->len - (size_t)len - 1,
					  '\n', (size_t)len + 1);

			start = nl ? (size_t)(nl - s->buf) + 1 : s->len;
		}
		memcpy(buf, s->buf + start, s->len - start);
		r = (long)(s->len - start);
		if (type == SL_READ_CLEAR)
			ring_clear(s);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ---- /dev/kmsg ---- */

int syslog_kmsg_seq(struct kernel *k, bool end, uint64_t *seq)
{
	struct syslog *s = syslog_get(k);

	if (!s)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	*seq = end ? s->next_seq : s->first_seq;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

struct waitq *syslog_kmsg_waitq(struct kernel *k)
{
	struct syslog *s = syslog_get(k);

	return s ? &s->wq : NULL;
}

/* msg_print_ext_header/body (kernel/printk/printk.c): unprintable bytes
 * and backslashes as \xNN. Returns the length or -EINVAL if it does not
 * fit. */
static long kmsg_format(const char *rec, size_t rlen, uint64_t seq, char *buf,
			size_t len)
{
	unsigned long long sec = 0, usec = 0;
	unsigned int prio = 0;
	size_t i = 0, n;
	char hdr[64];

	if (i < rlen && rec[i] == '<')
		for (i++; i < rlen && rec[i] >= '0' && rec[i] <= '9'; i++)
			prio = prio * 10 + (unsigned int)(rec[i] - '0');
	while (i < rlen && rec[i] != '[')
		i++;
	for (i++; i < rlen && rec[i] == ' '; i++)
		;
	for (; i < rlen && rec[i] >= '0' && rec[i] <= '9'; i++)
		sec = sec * 10 + (unsigned long long)(rec[i] - '0');
	if (i < rlen && rec[i] == '.')
		for (i++; i < rlen && rec[i] >= '0' && rec[i] <= '9'; i++)
			usec = usec * 10 + (unsigned long long)(rec[i] - '0');
	if (i < rlen && rec[i] == ']')
		i++;
	if (i < rlen && rec[i] == ' ')
		i++;
	n = (size_t)snprintf(hdr, sizeof(hdr), "%u,%llu,%llu,-;", prio,
			     (unsigned long long)seq, sec * 1000000ULL + usec);
	if (n > len)
		return -EINVAL;
	memcpy(buf, hdr, n);
	for (; i < rlen; i++) {
		unsigned char c = (unsigned char)rec[i];

		if (c < ' ' || c >= 127 || c == '\\') {
			if (n + 4 > len)
				return -EINVAL;
			snprintf(buf + n, 5, "\\x%02x", c);
			n += 4;
		} else {
			if (n + 1 > len)
				return -EINVAL;
			buf[n++] = (char)c;
		}
	}
	if (n + 1 > len)
		return -EINVAL;
	buf[n++] = '\n';
	return (long)n;
}

long syslog_kmsg_read(struct kernel *k, uint64_t *seq, char *buf, size_t len)
{
	struct syslog *s = syslog_get(k);
	const char *p, *end;
	long r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	if (*seq < s->first_seq) {
		/* devkmsg_read: the reader was overrun; resume at the oldest
		 * record after reporting it once. */
		*seq = s->first_seq;
		pthread_mutex_unlock(&s->lock);
		return -EPIPE;
	}
	if (*seq >= s->next_seq) {
		pthread_mutex_unlock(&s->lock);
		return -EAGAIN;
	}
	p = s->buf;
	end = s->buf + s->len;
	for (uint64_t i = s->first_seq; i < *seq && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		p = nl ? nl + 1 : end;
	}
	{
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		r = kmsg_format(p, (size_t)((nl ? nl : end) - p), *seq, buf,
				len);
	}
	if (r >= 0)
		(*seq)++;
	pthread_mutex_unlock(&s->lock);
	return r;
}

#define KMSG_LINE_MAX (1024 - 32)	/* LOG_LINE_MAX - PREFIX_MAX */

long syslog_kmsg_write(struct kernel *k, const char *buf, size_t len)
{
	struct syslog *s = syslog_get(k);
	int level = 4, facility = 1; /* default_message_loglevel, LOG_USER */
	size_t i = 0, mlen;

	if (!s)
		return -ENOMEM;
	if (len > KMSG_LINE_MAX)
		return -EINVAL;
	/* devkmsg_write(): an optional "<N>" sets level and, unless it is
	 * the kernel's (0), the facility. */
	if (len >= 3 && buf[0] == '<') {
		unsigned int u = 0;
		size_t j = 1;

		while (j < len && j < 12 && buf[j] >= '0' && buf[j] <= '9')
			u = u * 10 + (unsigned int)(buf[j++] - '0');
		if (j > 1 && j < len && buf[j] == '>') {
			if (u >> 3)
				facility = (int)(u >> 3);
			level = (int)(u & 7);
			i = j + 1;
		}
	}
	mlen = len - i;
	if (mlen && buf[i + mlen - 1] == '\n')
		mlen--;
	emit(s, util_now_ns() - k->boot_ns, (facility << 3) | level, buf + i,
	     mlen);
	return (long)len;
}
