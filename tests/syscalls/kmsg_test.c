/*
 * kmsg_test: /dev/kmsg (Documentation/ABI/testing/dev-kmsg). One record
 * per read as "prio,seq,usec,flags;text\n", EINVAL for a short buffer,
 * EAGAIN at the end with O_NONBLOCK, lseek(0, SEEK_END/SEEK_DATA/SEEK_SET)
 * and ESPIPE/EINVAL otherwise, a write becomes one record (facility user
 * unless given, backslashes escaped on the way out), poll and a blocking
 * read wake up for a new record, and syslog(2) sees written records too.
 */
#include <poll.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/wait.h>
#include <time.h>

#include "tap.h"

static char tag[64];

/* "prio,seq,usec,flags[,...];text\n": fills prio, seq, text (NUL-ended,
 * without the newline). 0 if the record is well formed. */
static int parse(char *rec, ssize_t n, unsigned *prio, unsigned long long *seq,
		 char **text)
{
	unsigned long long usec;
	char *semi;

	if (n <= 0 || rec[n - 1] != '\n' || memchr(rec, '\n', n - 1))
		return -1;
	rec[n - 1] = '\0';
	semi = strchr(rec, ';');
	if (!semi || sscanf(rec, "%u,%llu,%llu,", prio, seq, &usec) != 3)
		return -1;
	*text = semi + 1;
	return 0;
}

/* Read records until one whose text contains want (or EAGAIN). */
static int find(int fd, const char *want, unsigned *prio, char *text_out,
		size_t size)
{
	char rec[8192];
	ssize_t n;

	for (;;) {
		unsigned long long seq;
		char *text;

		n = read(fd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0)
			return -1;
		if (parse(rec, n, prio, &seq, &text))
			return -1;
		if (strstr(text, want)) {
			snprintf(text_out, size, "%s", text);
			return 0;
		}
	}
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	char rec[8192], text[1024], msg[256];
	unsigned long long seq1, seq2;
	unsigned prio;
	char *t;
	int fd, wfd;
	ssize_t n;

	snprintf(tag, sizeof(tag), "cvisor-kmsg-test-%d", getpid());
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		skip("no /dev/kmsg", "open /dev/kmsg");
		return done_testing();
	}
	ok(1, "open /dev/kmsg");
	is_errno(read(fd, rec, 8), EINVAL, "read into 8 bytes: EINVAL");
	n = read(fd, rec, sizeof(rec));
	if (n < 0 && errno == EPIPE)
		n = read(fd, rec, sizeof(rec));
	ok(parse(rec, n, &prio, &seq1, &t) == 0, "one well-formed record per read");
	n = read(fd, rec, sizeof(rec));
	ok(parse(rec, n, &prio, &seq2, &t) == 0 && seq2 == seq1 + 1,
	   "the next read is the next sequence number");
	is_long(lseek(fd, 0, SEEK_END), 0, "lseek(0, SEEK_END)");
	is_errno(read(fd, rec, sizeof(rec)), EAGAIN, "at the end: EAGAIN");
	is_errno(lseek(fd, 1, SEEK_SET), ESPIPE, "lseek to 1: ESPIPE");
	is_errno(lseek(fd, 0, SEEK_CUR), EINVAL, "SEEK_CUR: EINVAL");
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		is_long(poll(&p, 1, 0), 0, "poll at the end: not readable");
	}

	wfd = open("/dev/kmsg", O_WRONLY);
	ok_sys(wfd, "open /dev/kmsg for writing");
	n = snprintf(msg, sizeof(msg), "<5>%s a\\b\n", tag);
	is_long(write(wfd, msg, n), n, "write a record");
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		is_long(poll(&p, 1, 1000), 1, "poll: readable after a write");
	}
	ok(find(fd, tag, &prio, text, sizeof(text)) == 0, "the written record is read back");
	snprintf(msg, sizeof(msg), "%s a\\x5cb", tag);
	ok(!strcmp(text, msg), "text without prefix/newline, backslash escaped (%s)", text);
	is_long(prio, (1 << 3) | 5, "prio: facility user, level 5");

	{
		char buf[1 << 17];
		int len = klogctl(3, buf, sizeof(buf) - 1); /* READ_ALL */

		if (len >= 0) {
			buf[len] = '\0';
			ok(strstr(buf, tag) != NULL, "syslog(2) READ_ALL has it too");
		} else {
			skip("syslog(2) not permitted", "syslog(2) READ_ALL has it too");
		}
	}

	/* SEEK_DATA / SEEK_SET: back to the start of the log. */
	is_long(lseek(fd, 0, SEEK_DATA), 0, "lseek(0, SEEK_DATA)");
	n = read(fd, rec, sizeof(rec));
	if (n < 0 && errno == EPIPE)
		n = read(fd, rec, sizeof(rec));
	ok(n > 0, "a record after SEEK_DATA");
	is_long(lseek(fd, 0, SEEK_SET), 0, "lseek(0, SEEK_SET)");
	close(fd);

	/* A blocking reader wakes up for a new record. */
	fd = open("/dev/kmsg", O_RDONLY);
	lseek(fd, 0, SEEK_END);
	{
		pid_t pid = fork();
		struct sigaction sa = { .sa_handler = on_alarm };
		int st;

		if (pid == 0) {
			char m[128];
			int l;

			sleep_ms(100);
			l = snprintf(m, sizeof(m), "%s-blocking\n", tag);
			_exit(write(wfd, m, l) == l ? 0 : 1);
		}
		sigaction(SIGALRM, &sa, NULL);
		alarm(5); /* a hang fails with EINTR instead */
		snprintf(msg, sizeof(msg), "%s-blocking", tag);
		ok(find(fd, msg, &prio, text, sizeof(text)) == 0,
		   "a blocking read waits for the record");
		alarm(0);
		waitpid(pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer child");
	}
	close(fd);
	close(wfd);
	return done_testing();
}
