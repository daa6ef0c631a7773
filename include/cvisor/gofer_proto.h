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
};

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
	uint64_t arg;	 /* OPEN: flags; READDIR(_PLUS): offset (cookie) */
	uint32_t namelen;
	uint32_t pad;
	char name[];	 /* WALK, CREATE, MKDIR, UNLINK: namelen bytes,
			    not NUL-terminated */
};

struct gofer_reply {
	int32_t err;	   /* 0 or -errno */
	uint32_t handle;   /* WALK */
	struct gofer_stat st; /* WALK, STAT */
	uint64_t next;	   /* READDIR(_PLUS): cookie to continue from; 0 = end */
	uint32_t datalen;  /* bytes of data[] */
	uint32_t pad;
	char data[];	   /* READLINK: target; READDIR: gofer_dirent records;
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
