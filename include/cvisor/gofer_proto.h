/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sentry <-> gofer protocol, defined once.
 *
 * Transport: a SOCK_SEQPACKET socketpair; one request datagram, one reply
 * datagram (optionally carrying one fd via SCM_RIGHTS). Requests are served
 * in order. All integers are host-endian (both ends are one machine).
 *
 * Handles are small integers naming an O_PATH fd the gofer holds. Handle 0 is
 * the root. The gofer never walks a path: WALK takes one component, refuses
 * "", ".", ".." and anything containing '/', and never follows symlinks (the
 * sentry resolves them with READLINK), so nothing outside the root can be
 * named.
 */
#ifndef CVISOR_GOFER_PROTO_H
#define CVISOR_GOFER_PROTO_H

#include <stdint.h>

#define GOFER_NAME_MAX 255
#define GOFER_MSG_MAX 65536
#define GOFER_ROOT_HANDLE 0

enum gofer_op {
	GOFER_OP_WALK = 1,	/* handle, name -> new handle + stat */
	GOFER_OP_STAT,		/* handle -> stat */
	GOFER_OP_OPEN,		/* handle, flags -> host fd (SCM_RIGHTS) */
	GOFER_OP_READDIR,	/* handle, offset -> entries */
	GOFER_OP_READLINK,	/* handle -> target */
	GOFER_OP_CLOSE,		/* handle -> (forget it) */
	GOFER_OP_STATFS,	/* handle -> statfs */
	GOFER_OP_READDIR_PLUS,	/* handle, offset -> entries with their stat */
	/* Writable roots only (EROFS otherwise): */
	GOFER_OP_CREATE,	/* dir handle, name, arg mode -> new regular
				   file (O_EXCL), handle + stat as WALK */
	GOFER_OP_MKDIR,		/* dir handle, name, arg mode -> handle + stat */
	GOFER_OP_UNLINK,	/* dir handle, name, arg AT_REMOVEDIR or 0 */
	GOFER_OP_SETATTR,	/* handle, struct gofer_setattr -> stat */
	GOFER_OP_SYMLINK,	/* dir handle, "name\0target" -> as WALK */
	GOFER_OP_LINK,		/* file handle, handle2 = dir, name -> stat
				   of the file (its new nlink) */
	GOFER_OP_RENAME,	/* dir handle, handle2 = new dir,
				   "old\0new", arg RENAME_NOREPLACE or
				   RENAME_EXCHANGE or 0 */
	GOFER_OP_GETXATTR,	/* handle, name -> the value as data */
	GOFER_OP_LISTXATTR,	/* handle -> NUL-terminated names as data */
	GOFER_OP_SETXATTR,	/* handle, "name\0value", arg XATTR_CREATE
				   or XATTR_REPLACE or 0 */
	GOFER_OP_REMOVEXATTR,	/* handle, name */
	GOFER_OP_WALK_OPEN,	/* dir handle, name, flags -> as WALK, plus
				   the host fd OPEN of the new handle would
				   donate: one round trip, all or nothing */
};
#define GOFER_OP_COUNT (GOFER_OP_WALK_OPEN + 1) /* ops are 1..COUNT-1 */

/* WALK_OPEN's arg: open flags as OPEN's, plus this bit for the sentry's
 * lookups, which speculate on what follows them: a regular file is opened
 * with the flags, a symlink's target comes as data (as READLINK: never
 * empty), anything else is only walked; a failed open or readlink leaves
 * the reply WALK's alone (no fd, no data, err 0). Refused by OPEN. */
#define GOFER_WALK_OPEN_LOOKUP (1ULL << 32)

/* Only user.* xattrs of regular files and directories are served (the
 * gofer reopens the handle read-only and uses the f*xattr calls); names
 * are at most GOFER_XATTR_NAME_MAX bytes, values must fit one message. */
#define GOFER_XATTR_PREFIX "user."
#define GOFER_XATTR_NAME_MAX 255

/* SETATTR: which fields apply; one op at a time (chown, chmod, truncate,
 * utimensat), the host applies its own side effects (suid kill on chown,
 * ctime). Times may be UTIME_NOW or UTIME_OMIT in *_nsec. */
#define GOFER_SETATTR_MODE 0x1
#define GOFER_SETATTR_UID 0x2
#define GOFER_SETATTR_GID 0x4
#define GOFER_SETATTR_SIZE 0x8
#define GOFER_SETATTR_TIMES 0x10
struct gofer_setattr {
	uint32_t valid;	/* GOFER_SETATTR_* */
	uint32_t mode;	/* permission bits only (07777) */
	uint32_t uid, gid;
	int64_t size;
	int64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec;
};

/* Longest SYMLINK target (PATH_MAX without its NUL). */
#define GOFER_TARGET_MAX 4095

/* "No handle yet": a goferfs inode made from a READDIR_PLUS record walks
 * its name from the parent's handle on first use. Never sent. */
#define GOFER_NO_HANDLE UINT32_MAX

/* The stat fields the sentry needs, fixed layout. */
struct gofer_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime_sec, atime_nsec, mtime_sec, mtime_nsec, ctime_sec,
		ctime_nsec;
};

struct gofer_req {
	uint32_t op;	 /* enum gofer_op */
	uint32_t handle;
	uint64_t arg;	 /* OPEN, WALK_OPEN: flags; READDIR(_PLUS): offset
			    (cookie) */
	uint32_t namelen;
	uint32_t handle2; /* LINK: the new name's directory; RENAME: the
			     new directory; else 0 */
	char name[];	 /* namelen bytes of payload. WALK, WALK_OPEN,
			    CREATE, MKDIR, UNLINK, LINK: one name, not
			    NUL-terminated;
			    SYMLINK, RENAME: two strings split by one NUL,
			    the second not NUL-terminated; SETATTR: a
			    struct gofer_setattr; GETXATTR, REMOVEXATTR: a
			    name; SETXATTR: name, NUL, the value's bytes */
};

struct gofer_reply {
	int32_t err;	   /* 0 or -errno */
	uint32_t handle;   /* WALK, WALK_OPEN, CREATE, MKDIR, SYMLINK */
	struct gofer_stat st; /* WALK, WALK_OPEN, STAT, CREATE, MKDIR,
				 SYMLINK, SETATTR, LINK */
	uint64_t next;	   /* READDIR(_PLUS): cookie to continue from; 0 = end */
	uint32_t datalen;  /* bytes of data[] */
	uint32_t pad;
	char data[];	   /* READLINK, WALK_OPEN of a link: target; READDIR: gofer_dirent records;
			      GETXATTR: value; LISTXATTR: names;
			      READDIR_PLUS: gofer_direntplus records;
			      STATFS: struct statfs */
};

/* READDIR records, each padded to 8 bytes. */
struct gofer_dirent {
	uint64_t ino;
	uint16_t reclen;
	uint8_t type;	/* DT_* */
	uint8_t namelen;
	char name[];	/* not NUL-terminated */
};

/* READDIR_PLUS records, each padded to 8 bytes: the entry and its
 * lstat (statx(dirfd, name, AT_SYMLINK_NOFOLLOW) in the gofer), so a
 * listing followed by a stat of every entry costs one round trip per
 * ~400 entries instead of one WALK each. No handles are made. */
struct gofer_direntplus {
	uint64_t ino;	/* d_ino */
	struct gofer_stat st; /* valid when err == 0 */
	int32_t err;	/* 0 or -errno of this entry's stat (e.g. gone) */
	uint16_t reclen;
	uint8_t type;	/* DT_* */
	uint8_t namelen;
	char name[];	/* not NUL-terminated */
};

#endif
