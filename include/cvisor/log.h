/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging. One process-wide sink (stderr or --debug-log file), set up once
 * before any task thread starts; afterwards only read. log_*() are
 * async-signal-unsafe but thread-safe (one write(2) per line).
 */
#ifndef CVISOR_LOG_H
#define CVISOR_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

struct log_config {
	int fd;			/* sink for debug/info lines, -1 = none */
	enum log_level level;	/* highest level written to fd */
	bool strace;		/* --strace: one line per syscall to stderr */
};

extern struct log_config cv_log;

void log_open(const char *debug_log_path, bool debug, bool strace);
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (cv_log.level >= LOG_DEBUG)                                 \
			log_msg(LOG_DEBUG, __VA_ARGS__);                       \
	} while (0)

#endif
