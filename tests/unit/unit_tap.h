/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP for the unit tests: tap_ok(cond, fmt, ...) numbers and prints one
 * line (flushed, so a crash keeps what came before) and returns cond;
 * ok() is the same without the result; tap_done() prints the plan and
 * gives the exit status. One copy per test program (static).
 */
#ifndef CVISOR_TESTS_UNIT_TAP_H
#define CVISOR_TESTS_UNIT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int tap_ok(int cond,
						      const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

#define ok(...) ((void)tap_ok(__VA_ARGS__))

static __attribute__((unused)) int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
