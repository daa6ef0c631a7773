// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs: the few files programs read to size themselves (sysfs(5)):
 * /sys/devices/system/cpu/{online,possible,present,cpuN/} and a read-only
 * cgroup v2 view at /sys/fs/cgroup with no limits ("max"). Built on the
 * table file system of procfs.c; nothing here is writable.
 *
 * Locks and references: none of its own (see procfs.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../vfs_impl.h"

#define SYSFS_MAGIC 0x62656572

static long sys_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

static int show_cpu_range(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	long c = sys_ncpus();

	if (c == 1)
		pfs_printf(b, "0\n");
	else
		pfs_printf(b, "0-%ld\n", c - 1);
	return 0;
}

static int show_one(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "1\n");
	return 0;
}

static int show_empty_line(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "\n");
	return 0;
}

static int show_max(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "max\n");
	return 0;
}

static int show_cpu_max(const struct pfs_node *n UNUSED, struct pfs_buf *b)
{
	pfs_printf(b, "max 100000\n");
	return 0;
}

#define RO(nm, fn) { .name = nm, .mode = S_IFREG | 0444, .show = fn }

static const struct pfs_entry cpuN_entries[] = {
	RO("online", show_one),
	{ 0 },
};
static const struct pfs_entry cpuN_dir = {
	.name = "cpuN", .mode = S_IFDIR | 0755, .children = cpuN_entries,
};

static int cpu_lookup(const struct pfs_node *dir UNUSED, const char *name,
		      size_t len, struct pfs_node *out)
{
	long v = 0;

	if (len < 4 || len > 10 || memcmp(name, "cpu", 3))
		return -ENOENT;
	for (size_t i = 3; i < len; i++) {
		if (name[i] < '0' || name[i] > '9' || (i == 3 && name[i] == '0' && len > 4))
			return -ENOENT;
		v = v * 10 + (name[i] - '0');
	}
	if (v >= sys_ncpus())
		return -ENOENT;
	out->e = &cpuN_dir;
	out->fd = (int)v;
	return 0;
}

static int cpu_iterate(const struct pfs_node *dir UNUSED, struct dir_ctx *ctx)
{
	for (long i = ctx->pos - PFS_DYN_POS; i < sys_ncpus(); i++) {
		char name[16];
		int len = snprintf(name, sizeof(name), "cpu%ld", i);

		if (!ctx->actor(ctx, name, (size_t)len, 0x300000000ULL + (uint64_t)i,
				DT_DIR, PFS_DYN_POS + i + 1))
			break;
	}
	return 0;
}

static const struct pfs_entry cpu_entries[] = {
	RO("online", show_cpu_range),
	RO("possible", show_cpu_range),
	RO("present", show_cpu_range),
	{ 0 },
};
static const struct pfs_entry system_entries[] = {
	{ .name = "cpu", .mode = S_IFDIR | 0755, .children = cpu_entries,
	  .lookup = cpu_lookup, .iterate = cpu_iterate },
	{ 0 },
};
static const struct pfs_entry devices_entries[] = {
	{ .name = "system", .mode = S_IFDIR | 0755, .children = system_entries },
	{ 0 },
};
static const struct pfs_entry cgroup_entries[] = {
	RO("cgroup.controllers", show_empty_line),
	RO("cpu.max", show_cpu_max),
	RO("memory.max", show_max),
	RO("pids.max", show_max),
	{ 0 },
};
static const struct pfs_entry fs_entries[] = {
	{ .name = "cgroup", .mode = S_IFDIR | 0555, .children = cgroup_entries },
	{ 0 },
};
static const struct pfs_entry root_entries[] = {
	{ .name = "devices", .mode = S_IFDIR | 0755, .children = devices_entries },
	{ .name = "fs", .mode = S_IFDIR | 0755, .children = fs_entries },
	{ 0 },
};
static const struct pfs_entry sys_root = {
	.name = "/", .mode = S_IFDIR | 0555, .children = root_entries,
};

int sysfs_new(struct vfs *vfs, struct super_block **sb, struct dentry **root)
{
	int r = pfs_new(vfs, FS_SYSFS, "sysfs", &sys_root, SYSFS_MAGIC, sb,
			root);

	/* Read-only like Docker's /sys (write attempts: EROFS). */
	if (r == 0)
		(*sb)->readonly = true;
	return r;
}
