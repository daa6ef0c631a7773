/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the sysv_*_test programs (after tap.h and the libc headers). */
#ifndef SYSVIPC_TEST_H
#define SYSVIPC_TEST_H

/* /proc/sysvipc/%s: Linux's header, then our object's line (by id). */
static inline int sysvipc_line(const char *kind, const char *header, int id,
			char *line, size_t size)
{
	char path[64], buf[1 << 16], *p, *nl;
	ssize_t n, got = 0;
	int fd, k, i;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", kind);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	if (strncmp(buf, header, strlen(header))) {
		diag("header: %.*s", (int)strcspn(buf, "\n"), buf);
		return -2;
	}
	for (p = buf + strlen(header); *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (sscanf(p, "%d %d", &k, &i) == 2 && i == id) {
			snprintf(line, size, "%s", p);
			return 0;
		}
	}
	return -3;
}

#endif
