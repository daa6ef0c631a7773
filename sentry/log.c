// SPDX-License-Identifier: GPL-2.0
/*
 * Logging sink. cv_log is written once by log_open() before any task thread
 * exists and only read afterwards, so it needs no lock; each line goes out in
 * one write(2) so concurrent threads don't interleave within a line.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cvisor/log.h"
#include "cvisor/util.h"

struct log_config cv_log = { .fd = -1, .level = LOG_WARN, .strace = false };

void log_open(const char *debug_log_path, bool debug, bool strace)
{
	cv_log.strace = strace;
	if (debug || debug_log_path)
		cv_log.level = LOG_DEBUG;
	if (debug_log_path) {
		int fd = open(debug_log_path,
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0) {
			cv_log.fd = fd;
			return;
		}
		fprintf(stderr, "cvisor: cannot open debug log %s: %m\n",
			debug_log_path);
	}
	cv_log.fd = -1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "E", "W", "I", "D" };
	char line[1024];
	struct timespec ts;
	va_list ap;
	int n, fd;

	/* Errors and warnings always reach stderr; debug lines only the
	 * debug log (or stderr with --debug and no --debug-log). */
	if (lvl > cv_log.level)
		return;
	fd = cv_log.fd >= 0 ? cv_log.fd : STDERR_FILENO;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%s%02ld:%02ld:%02ld.%06ld %5ld ",
		     names[lvl], (long)(ts.tv_sec / 3600 % 24),
		     (long)(ts.tv_sec / 60 % 60), (long)(ts.tv_sec % 60),
		     (long)(ts.tv_nsec / 1000), (long)syscall(SYS_gettid));
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	util_write_all(fd, line, (size_t)n);
	if (lvl <= LOG_WARN && fd != STDERR_FILENO)
		util_write_all(STDERR_FILENO, line, (size_t)n);
}
