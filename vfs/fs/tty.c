// SPDX-License-Identifier: GPL-2.0
/*
 * Terminals: one struct tty per pseudo-terminal pair, its line discipline
 * (drivers/tty/n_tty.c), termios and window size (tty_ioctl(4),
 * termios(3)), controlling terminals and job control (drivers/tty/tty_jobctrl.c),
 * and /dev/tty, /dev/console. The file system side (/dev/pts, index
 * allocation, the nodes) is vfs/fs/devpts.c.
 *
 * Model. Linux gives each side of a pty its own tty and line discipline and
 * runs the master's in raw mode; here the pair is one object with the
 * slave's discipline only, which is what a raw master amounts to:
 *   master write -> input processing (ICRNL..., ISIG, ICANON editing, ECHO)
 *                   -> the input queue the slave reads;
 *   slave write  -> output processing (OPOST, ONLCR...) -> the output queue
 *                   the master reads (echoes go there too).
 * Termios, window-size and process-group ioctls on the master act on the
 * slave (tty_pair_get_tty() in tty_io.c), so tcsetattr(master) works.
 *
 * Controlling terminals are per session: a tty records the session (sid)
 * that owns it and its foreground process group, and the controlling
 * terminal of a process is the tty owned by its session (found through
 * devpts), unless the process gave it up with TIOCNOTTY
 * (process->tty_dropped). So fork/setsid need no tty code: a new session
 * owns no terminal. A session whose leader is gone loses its terminal when
 * next looked at; tty_session_leader_exit() (exit.c) does it at once and
 * sends SIGHUP to the foreground group as disassociate_ctty(1) does.
 *
 * Hang-up: closing the master hangs the slave up (pty_close() +
 * tty_vhangup()): slave reads return 0, writes and ioctls EIO, the session
 * leader gets SIGHUP and SIGCONT and the session loses the terminal. With
 * every slave file closed, master reads return EIO once the output queue
 * is drained (TTY_OTHER_CLOSED); a new slave open clears that.
 *
 * Blocking: one wait queue per tty; every change wakes everyone (waiters
 * re-check). Interrupted waits return -ERESTARTSYS, as n_tty_read does.
 *
 * Locks: tty->lock is taken inside devpts->lock and never held while taking
 * kernel->lock, a signal lock or vfs->lock: job-control checks and signals
 * run with it dropped. Wake-ups happen after it is dropped.
 * References: tty->refs counts the master file, each slave file and
 * transient users (devpts lookups); the last tty_put() frees it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>

#include "cvisor/signal.h"
#include "cvisor/task.h"
#include "cvisor/waitq.h"
#include "../vfs_impl.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* kill_pgrp() from sentry/kernel/signal.c (kill(-pgrp) uses it too). */
extern int signal_send_pgrp(struct task *self, int pgid, const siginfo_t *info);

#define TTY_IBUF 4096		/* N_TTY_BUF_SIZE */
#define TTY_OBUF 16384		/* what the master has not read yet */
#define IMASK (TTY_IBUF - 1)
#define OMASK (TTY_OBUF - 1)

/* The kernel's struct termios (asm-generic/termbits.h), 36 bytes; glibc's
 * flag values and c_cc indices are the kernel's. */
struct ktermios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};

struct tty {
	pthread_mutex_t lock;
	struct waitq wq;
	_Atomic int refs;
	struct devpts *dp;
	int index;
	struct ktermios tio;
	struct winsize ws;
	/* Input queue (what the slave reads): rtail <= chead <= rhead, free
	 * running. [rtail, chead) holds complete lines in canonical mode,
	 * [chead, rhead) the line being edited. idelim marks line ends. */
	unsigned char ibuf[TTY_IBUF];
	uint8_t idelim[TTY_IBUF];
	size_t rtail, chead, rhead;
	/* Output queue (what the master reads). */
	unsigned char obuf[TTY_OBUF];
	size_t otail, ohead;
	unsigned int column;	/* for ONOCR and tab expansion */
	int slaves;		/* open slave files */
	bool other_closed;	/* every slave closed (master reads EIO) */
	bool master_open;
	bool hungup;		/* the master closed: slave files are dead */
	bool locked;		/* TIOCSPTLCK */
	int session, pgrp;	/* owning session and its foreground group */
};

enum side { SIDE_MASTER, SIDE_SLAVE };

static const struct file_ops master_fops, slave_fops;

/* ---- objects ---- */

/* tty_std_termios with the pty slave's c_cflag (drivers/tty/pty.c). */
static void termios_init(struct ktermios *t)
{
	static const uint8_t cc[19] = {
		[VINTR] = 3, [VQUIT] = 034, [VERASE] = 0177, [VKILL] = 025,
		[VEOF] = 4, [VTIME] = 0, [VMIN] = 1, [VSTART] = 021,
		[VSTOP] = 023, [VSUSP] = 032, [VREPRINT] = 022,
		[VDISCARD] = 017, [VWERASE] = 027, [VLNEXT] = 026,
	};

	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL | IXON;
	t->c_oflag = OPOST | ONLCR;
	t->c_cflag = B38400 | CS8 | CREAD;
	t->c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE |
		     IEXTEN;
	memcpy(t->c_cc, cc, sizeof(cc));
}

int tty_pty_new(struct devpts *dp, int index, struct tty **out)
{
	struct tty *tty = calloc(1, sizeof(*tty));

	if (!tty)
		return -ENOMEM;
	pthread_mutex_init(&tty->lock, NULL);
	waitq_init(&tty->wq);
	atomic_init(&tty->refs, 1);
	tty->dp = dp;
	tty->index = index;
	tty->locked = true;	/* ptmx_open(): locked until unlockpt() */
	termios_init(&tty->tio);
	*out = tty;
	return 0;
}

void tty_get(struct tty *tty)
{
	atomic_fetch_add(&tty->refs, 1);
}

void tty_put(struct tty *tty)
{
	if (!tty || atomic_fetch_sub(&tty->refs, 1) != 1)
		return;
	waitq_destroy(&tty->wq);
	pthread_mutex_destroy(&tty->lock);
	free(tty);
}

struct devpts *tty_devpts(const struct tty *tty)
{
	return tty->dp;
}

int tty_index(const struct tty *tty)
{
	return tty->index;
}

int tty_session(struct tty *tty)
{
	int s;

	pthread_mutex_lock(&tty->lock);
	s = tty->session;
	pthread_mutex_unlock(&tty->lock);
	return s;
}

bool tty_file_is_pty(const struct file *f)
{
	return f->ops == &master_fops || f->ops == &slave_fops;
}

static void wake_all(struct tty *tty)
{
	waitq_wake(&tty->wq, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM |
				     EPOLLHUP | EPOLLERR);
}

/* ---- processes, sessions, signals ---- */

static void send_pgrp(struct task *t, int pgrp, int sig)
{
	siginfo_t info;

	if (!t || pgrp <= 0)
		return;
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = SI_KERNEL;
	signal_send_pgrp(t, pgrp, &info);
}

static void send_tgid(struct task *t, int tgid, int sig)
{
	siginfo_t info;

	if (!t || tgid <= 0)
		return;
	memset(&info, 0, sizeof(info));
	info.si_signo = sig;
	info.si_code = SI_KERNEL;
	signal_send_tgid(t->k, tgid, &info);
}

struct proc_ids {
	int tgid, pgid, sid;
	bool dropped;
};

static void proc_ids(struct task *t, struct proc_ids *ids)
{
	pthread_mutex_lock(&t->k->lock);
	ids->tgid = t->proc->tgid;
	ids->pgid = t->proc->pgid;
	ids->sid = t->proc->sid;
	ids->dropped = t->proc->tty_dropped;
	pthread_mutex_unlock(&t->k->lock);
}

/* Is a process with this tgid alive (not a zombie)? */
static bool process_alive(struct kernel *k, int tgid)
{
	struct process *p;
	bool alive = false;

	pthread_mutex_lock(&k->lock);
	list_for_each_entry(p, &k->processes, k_link) {
		if (p->tgid == tgid) {
			alive = p->state == PROC_RUNNING && !p->group_exiting;
			break;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return alive;
}

/* will_become_orphaned_pgrp(): no member has a parent in another group
 * of the same session. */
static bool pgrp_orphaned(struct kernel *k, int pgrp)
{
	struct process *p;
	bool orphaned = true;

	pthread_mutex_lock(&k->lock);
	list_for_each_entry(p, &k->processes, k_link) {
		struct process *pp = p->parent;

		if (p->pgid != pgrp || p->state != PROC_RUNNING)
			continue;
		if (pp && pp->state == PROC_RUNNING && pp->pgid != pgrp &&
		    pp->sid == p->sid) {
			orphaned = false;
			break;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return orphaned;
}

/* The session of some live process in group pgrp, 0 if none. */
static int pgrp_session(struct kernel *k, int pgrp)
{
	struct process *p;
	int sid = 0;

	pthread_mutex_lock(&k->lock);
	list_for_each_entry(p, &k->processes, k_link) {
		if (p->pgid == pgrp && p->state == PROC_RUNNING) {
			sid = p->sid;
			break;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return sid;
}

/* Take the terminal from its session (session_clear_tty()). */
static void disassociate(struct tty *tty)
{
	pthread_mutex_lock(&tty->lock);
	tty->session = 0;
	tty->pgrp = 0;
	pthread_mutex_unlock(&tty->lock);
}

/* The controlling terminal of t's process, referenced, or NULL. */
static struct tty *ctty_of(struct task *t, struct proc_ids *ids)
{
	struct tty *tty;

	if (!t || !t->k->vfs)
		return NULL;
	proc_ids(t, ids);
	if (ids->dropped)
		return NULL;
	tty = devpts_find_session(t->k->vfs, ids->sid);
	if (tty && ids->sid != ids->tgid && !process_alive(t->k, ids->sid)) {
		/* The leader left without telling us (no exit hook). */
		disassociate(tty);
		tty_put(tty);
		return NULL;
	}
	return tty;
}

static bool sig_ignored_or_blocked(struct task *t, int sig)
{
	bool r;

	if (t->sig.blocked & CV_SIGBIT(sig))
		return true;
	pthread_mutex_lock(&t->sig.sighand->lock);
	r = t->sig.sighand->action[sig - 1].handler == (uint64_t)SIG_IGN;
	pthread_mutex_unlock(&t->sig.sighand->lock);
	return r;
}

/*
 * __tty_check_change() and n_tty's job_control(): a background process
 * touching its controlling terminal. 0: go on; -EIO; -ERESTARTSYS after
 * sending sig to the caller's group (it stops, the call restarts).
 */
static int job_check(struct tty *tty, int sig)
{
	struct task *t = ipc_current();
	struct proc_ids ids;
	int session, pgrp;

	if (!t)
		return 0;
	pthread_mutex_lock(&tty->lock);
	session = tty->session;
	pgrp = tty->pgrp;
	pthread_mutex_unlock(&tty->lock);
	if (!session)
		return 0;
	proc_ids(t, &ids);
	if (ids.dropped || ids.sid != session || !pgrp || ids.pgid == pgrp)
		return 0;
	if (sig_ignored_or_blocked(t, sig))
		return sig == SIGTTIN ? -EIO : 0;
	if (pgrp_orphaned(t->k, ids.pgid))
		return -EIO;
	send_pgrp(t, ids.pgid, sig);
	return -ERESTARTSYS;
}

/* A session leader gives up its terminal (disassociate_ctty()): SIGHUP to
 * the foreground group, and SIGCONT unless it is exiting. */
static void leader_disassociate(struct task *t, struct tty *tty, bool on_exit)
{
	int pgrp;

	pthread_mutex_lock(&tty->lock);
	pgrp = tty->pgrp;
	tty->session = 0;
	tty->pgrp = 0;
	pthread_mutex_unlock(&tty->lock);
	send_pgrp(t, pgrp, SIGHUP);
	if (!on_exit)
		send_pgrp(t, pgrp, SIGCONT);
}

void tty_session_leader_exit(struct task *t)
{
	struct proc_ids ids;
	struct tty *tty;

	if (!t || !t->k->vfs)
		return;
	proc_ids(t, &ids);
	if (ids.sid != ids.tgid)
		return;
	tty = devpts_find_session(t->k->vfs, ids.sid);
	if (!tty)
		return;
	leader_disassociate(t, tty, true);
	tty_put(tty);
}

/* ---- the line discipline (tty->lock held) ---- */

static size_t ocount(const struct tty *tty)
{
	return tty->ohead - tty->otail;
}

static void oput(struct tty *tty, unsigned char c)
{
	tty->obuf[tty->ohead++ & OMASK] = c;
}

/* do_output_char(): one character through OPOST. false: no room. */
static bool output_char(struct tty *tty, unsigned char c)
{
	uint32_t o = tty->tio.c_oflag;
	size_t room = TTY_OBUF - ocount(tty);

	if (!(o & OPOST)) {
		if (!room)
			return false;
		oput(tty, c);
		return true;
	}
	switch (c) {
	case '\n':
		if (o & ONLRET)
			tty->column = 0;
		if (o & ONLCR) {
			if (room < 2)
				return false;
			tty->column = 0;
			oput(tty, '\r');
			oput(tty, '\n');
			return true;
		}
		break;
	case '\r':
		if ((o & ONOCR) && tty->column == 0)
			return true;
		if (o & OCRNL) {
			c = '\n';
			if (o & ONLRET)
				tty->column = 0;
			break;
		}
		tty->column = 0;
		break;
	case '\t': {
		unsigned int spaces = 8 - (tty->column & 7);

		if ((o & TABDLY) == XTABS) {
			if (room < spaces)
				return false;
			tty->column += spaces;
			while (spaces--)
				oput(tty, ' ');
			return true;
		}
		tty->column += spaces;
		break;
	}
	case '\b':
		if (tty->column > 0)
			tty->column--;
		break;
	default:
		if (!iscntrl(c)) {
			if (o & OLCUC)
				c = (unsigned char)toupper(c);
			tty->column++;
		}
		break;
	}
	if (!room)
		return false;
	oput(tty, c);
	return true;
}

/* echo_char(): control characters as ^X with ECHOCTL (not tab or
 * newline). Echoes that do not fit are dropped. */
static void echo_char(struct tty *tty, unsigned char c)
{
	if ((tty->tio.c_lflag & ECHOCTL) && iscntrl(c) && c != '\t' &&
	    c != '\n') {
		if (TTY_OBUF - ocount(tty) >= 2) {
			oput(tty, '^');
			oput(tty, c ^ 0100);
			tty->column += 2;
		}
		return;
	}
	(void)output_char(tty, c);
}

static void echo_erase(struct tty *tty, int n)
{
	while (n-- > 0) {
		(void)output_char(tty, '\b');
		(void)output_char(tty, ' ');
		(void)output_char(tty, '\b');
	}
}

static bool is_cc(uint8_t v, unsigned char c)
{
	return v != _POSIX_VDISABLE && v == c;
}

static size_t icount(const struct tty *tty)
{
	return tty->rhead - tty->rtail;
}

/* put_tty_queue(); in a canonical line filling the whole buffer only a
 * line end still gets in, over the last character (n_tty's overflow). */
static void iput(struct tty *tty, unsigned char c, bool delim)
{
	if (icount(tty) >= TTY_IBUF - 1) {
		if (!delim || tty->rhead == tty->chead)
			return;
		tty->rhead--;
	}
	tty->idelim[tty->rhead & IMASK] = delim;
	tty->ibuf[tty->rhead++ & IMASK] = c;
	if (delim)
		tty->chead = tty->rhead;
}

enum kill_type { ERASE, WERASE, KILL };

/* eraser(): ERASE, WERASE and KILL on the line being edited. */
static void eraser(struct tty *tty, enum kill_type type, unsigned char c)
{
	uint32_t l = tty->tio.c_lflag;
	bool seen_alnum = false;

	if (tty->rhead == tty->chead)
		return;
	if (type == KILL) {
		if (!(l & ECHO)) {
			tty->rhead = tty->chead;
			return;
		}
		if (!(l & ECHOK) || !(l & ECHOKE) || !(l & ECHOE)) {
			tty->rhead = tty->chead;
			echo_char(tty, c);
			if (l & ECHOK)
				(void)output_char(tty, '\n');
			return;
		}
	}
	while (tty->rhead != tty->chead) {
		unsigned char e = tty->ibuf[(tty->rhead - 1) & IMASK];

		if (type == WERASE) {
			if (isalnum(e) || e == '_')
				seen_alnum = true;
			else if (seen_alnum)
				break;
		}
		tty->rhead--;
		if (l & ECHO) {
			if (type == ERASE && !(l & ECHOE))
				echo_char(tty, tty->tio.c_cc[VERASE]);
			else if (iscntrl(e))
				echo_erase(tty, (l & ECHOCTL) && e != '\t' ? 2
									   : 1);
			else
				echo_erase(tty, 1);
		}
		if (type == ERASE)
			break;
	}
}

/*
 * n_tty_receive_char() and friends: one byte the master wrote. Returns
 * false when it must wait for room (the caller blocks the writer: a pty
 * master is flow-controlled by the slave's reader). *sig gets a signal
 * for the foreground group (ISIG).
 */
static bool receive_char(struct tty *tty, unsigned char c, int *sig)
{
	uint32_t i = tty->tio.c_iflag, l = tty->tio.c_lflag;
	const uint8_t *cc = tty->tio.c_cc;
	bool canon = l & ICANON;

	if (icount(tty) >= TTY_IBUF - 1 &&
	    !(canon && tty->chead == tty->rtail))
		return false;
	if (i & ISTRIP)
		c &= 0x7f;
	if ((i & IUCLC) && (l & IEXTEN))
		c = (unsigned char)tolower(c);
	if (c == '\r') {
		if (i & IGNCR)
			return true;
		if (i & ICRNL)
			c = '\n';
	} else if (c == '\n' && (i & INLCR)) {
		c = '\r';
	}
	if (l & ISIG) {
		int s = is_cc(cc[VINTR], c)   ? SIGINT :
			is_cc(cc[VQUIT], c) ? SIGQUIT :
			is_cc(cc[VSUSP], c) ? SIGTSTP : 0;

		if (s) {
			/* isig(): flush both queues unless NOFLSH. */
			if (!(l & NOFLSH)) {
				tty->rtail = tty->chead = tty->rhead;
				tty->otail = tty->ohead;
			}
			if (l & ECHO)
				echo_char(tty, c);
			*sig = s;
			return true;
		}
	}
	if (canon) {
		if (is_cc(cc[VERASE], c)) {
			eraser(tty, ERASE, c);
			return true;
		}
		if (is_cc(cc[VKILL], c)) {
			eraser(tty, KILL, c);
			return true;
		}
		if (is_cc(cc[VWERASE], c) && (l & IEXTEN)) {
			eraser(tty, WERASE, c);
			return true;
		}
		if (is_cc(cc[VEOF], c)) {
			/* A line end that reads as nothing: __DISABLED_CHAR. */
			iput(tty, _POSIX_VDISABLE, true);
			return true;
		}
		if (c == '\n' || is_cc(cc[VEOL], c) ||
		    (is_cc(cc[VEOL2], c) && (l & IEXTEN))) {
			if (c == '\n' ? (l & (ECHO | ECHONL)) : (l & ECHO))
				echo_char(tty, c);
			iput(tty, c, true);
			return true;
		}
	}
	if (l & ECHO)
		echo_char(tty, c);
	iput(tty, c, false);
	return true;
}

/* Bytes a read would return now (TIOCINQ: complete lines when canonical,
 * without the EOF marks). */
static size_t inq(const struct tty *tty)
{
	size_t n = 0;

	if (!(tty->tio.c_lflag & ICANON))
		return icount(tty);
	for (size_t p = tty->rtail; p != tty->chead; p++)
		if (!(tty->idelim[p & IMASK] &&
		      tty->ibuf[p & IMASK] == _POSIX_VDISABLE))
			n++;
	return n;
}

/* n_tty_set_termios(): switching ICANON turns pending input into a line
 * (to canonical) or makes the edited line readable (to raw). */
static void set_termios(struct tty *tty, const struct ktermios *nt)
{
	bool was_canon = tty->tio.c_lflag & ICANON;

	tty->tio = *nt;
	if (was_canon == !!(nt->c_lflag & ICANON))
		return;
	memset(tty->idelim, 0, sizeof(tty->idelim));
	if (!(nt->c_lflag & ICANON) || !icount(tty)) {
		tty->chead = tty->rtail;
	} else {
		tty->idelim[(tty->rhead - 1) & IMASK] = 1;
		tty->chead = tty->rhead;
	}
}

/* ---- blocking ---- */

/* Wait with the waiter queued (tty->lock held, dropped meanwhile).
 * 0 woken, -ETIMEDOUT, -ERESTARTSYS. */
static int tty_block(struct tty *tty, struct task *t,
		     const struct timespec *deadline)
{
	int r;

	pthread_mutex_unlock(&tty->lock);
	if (!t) {
		struct timespec ts = { 0, 2 * 1000000 };

		nanosleep(&ts, NULL);
		r = 0;
		if (deadline) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > deadline->tv_sec ||
			    (now.tv_sec == deadline->tv_sec &&
			     now.tv_nsec >= deadline->tv_nsec))
				r = -ETIMEDOUT;
		}
	} else {
		r = task_block(t, deadline);
		if (r == -EINTR)
			r = -ERESTARTSYS;
	}
	pthread_mutex_lock(&tty->lock);
	return r;
}

static void deadline_in(struct timespec *ts, unsigned int deciseconds)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += deciseconds / 10;
	ts->tv_nsec += (long)(deciseconds % 10) * 100000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- slave file ---- */

/* Canonical: at most one line, its end included unless it is EOF. */
static size_t read_canon(struct tty *tty, const struct iovec *iov, int cnt,
			 size_t total)
{
	size_t done = 0;

	while (tty->rtail != tty->chead && done < total) {
		size_t p = tty->rtail & IMASK;
		unsigned char c = tty->ibuf[p];
		bool delim = tty->idelim[p];

		tty->rtail++;
		if (delim && c == _POSIX_VDISABLE)
			break;
		iov_copy_out(iov, cnt, done, &c, 1);
		done++;
		if (delim)
			break;
	}
	return done;
}

static size_t read_raw(struct tty *tty, const struct iovec *iov, int cnt,
		       size_t done, size_t total)
{
	while (tty->rtail != tty->rhead && done < total) {
		size_t p = tty->rtail & IMASK;
		size_t n = MIN(MIN(TTY_IBUF - p, tty->rhead - tty->rtail),
			       total - done);

		iov_copy_out(iov, cnt, done, tty->ibuf + p, n);
		tty->rtail += n;
		done += n;
	}
	tty->chead = tty->rtail;
	return done;
}

static ssize_t slave_read(struct file *f, const struct iovec *iov, int cnt,
			  int64_t *off)
{
	struct tty *tty = f->priv;
	struct task *t = ipc_current();
	size_t total = iov_total(iov, cnt), done = 0;
	struct timespec deadline, *dl = NULL;
	bool queued = false;
	struct waiter w;
	ssize_t ret;
	int r;

	(void)off;
	r = job_check(tty, SIGTTIN);
	if (r)
		return r;
	if (!total)
		return 0;
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&tty->lock);
	for (;;) {
		bool canon = tty->tio.c_lflag & ICANON;
		unsigned int vmin = tty->tio.c_cc[VMIN];
		unsigned int vtime = tty->tio.c_cc[VTIME];

		if (tty->hungup) {
			ret = (ssize_t)done;
			break;
		}
		if (canon) {
			if (tty->rtail != tty->chead) {
				/* An EOF line end reads as 0 bytes. */
				ret = (ssize_t)read_canon(tty, iov, cnt, total);
				break;
			}
		} else {
			size_t before = done;

			done = read_raw(tty, iov, cnt, done, total);
			/* VMIN/VTIME (termios(3)), MIN capped by the
			 * request as n_tty_read does. */
			if (done >= total || (vmin && done >= vmin) ||
			    (!vmin && done) || (!vmin && !vtime)) {
				ret = (ssize_t)done;
				break;
			}
			if (vmin && vtime && done > before) {
				/* The inter-byte timer restarts. */
				deadline_in(&deadline, vtime);
				dl = &deadline;
			} else if (!vmin && vtime && !dl) {
				deadline_in(&deadline, vtime);
				dl = &deadline;
			}
		}
		if (!tty->master_open) {
			ret = (ssize_t)done;
			break;
		}
		if (f->flags & O_NONBLOCK) {
			ret = done ? (ssize_t)done : -EAGAIN;
			break;
		}
		if (!queued) {
			waitq_add(&tty->wq, &w);
			queued = true;
			continue;
		}
		r = tty_block(tty, t, dl);
		if (r == -ETIMEDOUT) {
			done = read_raw(tty, iov, cnt, done,
					canon ? done : total);
			ret = (ssize_t)done;
			break;
		}
		if (r < 0) {
			ret = done ? (ssize_t)done : r;
			break;
		}
	}
	pthread_mutex_unlock(&tty->lock);
	if (queued)
		waitq_remove(&tty->wq, &w);
	if (ret > 0)
		wake_all(tty);	/* room for the master's writer */
	return ret;
}

/* Output processing into the master's queue; blocks when it is full. */
/*
 * Shared by the master and slave writes. write_wait: the output had no
 * room (tty->lock held): EAGAIN for O_NONBLOCK, else queue the waiter on
 * the first pass, else let readers see what was written so far and sleep.
 * Returns 0 to retry or -errno to stop. write_finish: drop the lock and the
 * waiter; a partial write returns its count, as n_tty_write().
 */
static int write_wait(struct tty *tty, struct file *f, struct task *t,
		      struct waiter *w, bool *queued, size_t done)
{
	int r;

	if (f->flags & O_NONBLOCK)
		return -EAGAIN;
	if (!*queued) {
		waitq_add(&tty->wq, w);
		*queued = true;
		return 0;
	}
	pthread_mutex_unlock(&tty->lock);
	if (done)
		wake_all(tty);
	pthread_mutex_lock(&tty->lock);
	r = tty_block(tty, t, NULL);
	return r < 0 ? r : 0;
}

static ssize_t write_finish(struct tty *tty, struct waiter *w, bool queued,
			    size_t done, ssize_t ret)
{
	pthread_mutex_unlock(&tty->lock);
	if (queued)
		waitq_remove(&tty->wq, w);
	if (done) {
		wake_all(tty);
		return (ssize_t)done;
	}
	return ret;
}

static ssize_t slave_write(struct file *f, const struct iovec *iov, int cnt,
			   int64_t *off)
{
	struct tty *tty = f->priv;
	struct task *t = ipc_current();
	size_t total = iov_total(iov, cnt), done = 0;
	bool queued = false, tostop;
	struct waiter w;
	ssize_t ret = 0;
	int r;

	(void)off;
	pthread_mutex_lock(&tty->lock);
	tostop = tty->tio.c_lflag & TOSTOP;
	pthread_mutex_unlock(&tty->lock);
	if (tostop) {
		r = job_check(tty, SIGTTOU);
		if (r)
			return r;
	}
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&tty->lock);
	while (done < total) {
		unsigned char c;

		if (tty->hungup) {
			ret = -EIO;
			break;
		}
		iov_copy_in(&c, iov, cnt, done, 1);
		if (output_char(tty, c)) {
			done++;
			continue;
		}
		r = write_wait(tty, f, t, &w, &queued, done);
		if (r < 0) {
			ret = r;
			break;
		}
	}
	return write_finish(tty, &w, queued, done, ret);
}

static uint32_t slave_poll(struct file *f, struct poll_table *pt)
{
	struct tty *tty = f->priv;
	uint32_t mask = 0;

	poll_wait(f, &tty->wq, pt);
	pthread_mutex_lock(&tty->lock);
	if (tty->hungup) {
		mask = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM |
		       EPOLLWRNORM;
	} else {
		size_t need = 1;

		/* input_available_p(tty, 1). */
		if (!(tty->tio.c_lflag & ICANON) && !tty->tio.c_cc[VTIME] &&
		    tty->tio.c_cc[VMIN])
			need = tty->tio.c_cc[VMIN];
		if (tty->tio.c_lflag & ICANON ? tty->chead != tty->rtail
					      : icount(tty) >= need)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (ocount(tty) < TTY_OBUF)
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	pthread_mutex_unlock(&tty->lock);
	return mask;
}

/* ---- master file ---- */

static ssize_t master_read(struct file *f, const struct iovec *iov, int cnt,
			   int64_t *off)
{
	struct tty *tty = f->priv;
	struct task *t = ipc_current();
	size_t total = iov_total(iov, cnt), done = 0;
	bool queued = false;
	struct waiter w;
	ssize_t ret;
	int r;

	(void)off;
	if (!total)
		return 0;
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&tty->lock);
	for (;;) {
		while (ocount(tty) && done < total) {
			size_t p = tty->otail & OMASK;
			size_t n = MIN(MIN(TTY_OBUF - p, ocount(tty)),
				       total - done);

			iov_copy_out(iov, cnt, done, tty->obuf + p, n);
			tty->otail += n;
			done += n;
		}
		if (done) {
			ret = (ssize_t)done;
			break;
		}
		/* pty(7): EIO once every slave file is closed. */
		if (tty->other_closed) {
			ret = -EIO;
			break;
		}
		if (f->flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		if (!queued) {
			waitq_add(&tty->wq, &w);
			queued = true;
			continue;
		}
		r = tty_block(tty, t, NULL);
		if (r < 0) {
			ret = r;
			break;
		}
	}
	pthread_mutex_unlock(&tty->lock);
	if (queued)
		waitq_remove(&tty->wq, &w);
	if (done)
		wake_all(tty);
	return ret;
}

static ssize_t master_write(struct file *f, const struct iovec *iov, int cnt,
			    int64_t *off)
{
	struct tty *tty = f->priv;
	struct task *t = ipc_current();
	size_t total = iov_total(iov, cnt), done = 0;
	bool queued = false;
	struct waiter w;
	ssize_t ret = 0;
	int pgrp, r;

	(void)off;
	waiter_init(&w, t, ~0ULL);
	pthread_mutex_lock(&tty->lock);
	while (done < total) {
		unsigned char c;
		int s = 0;

		iov_copy_in(&c, iov, cnt, done, 1);
		if (receive_char(tty, c, &s)) {
			done++;
			if (s) {
				/* Send now: a later ^C in this write must
				 * not be merged away. */
				pgrp = tty->pgrp;
				pthread_mutex_unlock(&tty->lock);
				send_pgrp(t, pgrp, s);
				pthread_mutex_lock(&tty->lock);
			}
			continue;
		}
		r = write_wait(tty, f, t, &w, &queued, done);
		if (r < 0) {
			ret = r;
			break;
		}
	}
	return write_finish(tty, &w, queued, done, ret);
}

static uint32_t master_poll(struct file *f, struct poll_table *pt)
{
	struct tty *tty = f->priv;
	uint32_t mask = 0;

	poll_wait(f, &tty->wq, pt);
	pthread_mutex_lock(&tty->lock);
	if (ocount(tty))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (tty->other_closed)
		mask |= EPOLLHUP;
	if (icount(tty) < TTY_IBUF - 1 ||
	    ((tty->tio.c_lflag & ICANON) && tty->chead == tty->rtail))
		mask |= EPOLLOUT | EPOLLWRNORM;
	pthread_mutex_unlock(&tty->lock);
	return mask;
}

/* ---- ioctls (tty_ioctl(4)); arg is sized by sys_file.c: value commands
 * (TIOCSCTTY, TCFLSH...) get the value as an int ---- */

static int tiocsctty(struct tty *tty, int arg)
{
	struct task *t = ipc_current();
	struct proc_ids ids;
	struct tty *cur;
	int session;

	if (!t)
		return -EPERM;
	cur = ctty_of(t, &ids);
	if (cur == tty) {
		tty_put(cur);
		return ids.sid == ids.tgid ? 0 : -EPERM;
	}
	if (cur) {
		tty_put(cur);
		return -EPERM;
	}
	if (ids.sid != ids.tgid)
		return -EPERM;
	pthread_mutex_lock(&tty->lock);
	session = tty->session;
	pthread_mutex_unlock(&tty->lock);
	if (session && process_alive(t->k, session)) {
		/* Steal only with CAP_SYS_ADMIN and arg 1. */
		if (arg != 1 || !cred_capable(&t->cred, 21 /* SYS_ADMIN */))
			return -EPERM;
	}
	pthread_mutex_lock(&tty->lock);
	if (tty->hungup) {
		pthread_mutex_unlock(&tty->lock);
		return -EIO;
	}
	tty->session = ids.sid;
	tty->pgrp = ids.pgid;
	pthread_mutex_unlock(&tty->lock);
	pthread_mutex_lock(&t->k->lock);
	t->proc->tty_dropped = false;
	pthread_mutex_unlock(&t->k->lock);
	return 0;
}

/* Is tty the caller's controlling terminal? */
static bool is_my_ctty(struct tty *tty, struct proc_ids *ids)
{
	struct tty *cur = ctty_of(ipc_current(), ids);

	tty_put(cur);
	return cur == tty;
}

static int tiocspgrp(struct tty *tty, int pgrp)
{
	struct task *t = ipc_current();
	struct proc_ids ids;
	int r = job_check(tty, SIGTTOU), sid;

	if (r == -EIO)
		return -ENOTTY;
	if (r)
		return r;
	if (!t || !is_my_ctty(tty, &ids))
		return -ENOTTY;
	if (pgrp < 0)
		return -EINVAL;
	sid = pgrp_session(t->k, pgrp);
	if (!sid)
		return -ESRCH;
	if (sid != ids.sid)
		return -EPERM;
	pthread_mutex_lock(&tty->lock);
	tty->pgrp = pgrp;
	pthread_mutex_unlock(&tty->lock);
	return 0;
}

static int tiocnotty(struct tty *tty)
{
	struct task *t = ipc_current();
	struct proc_ids ids;

	if (!t || !is_my_ctty(tty, &ids))
		return -ENOTTY;
	if (ids.sid == ids.tgid) {
		leader_disassociate(t, tty, false);
		return 0;
	}
	pthread_mutex_lock(&t->k->lock);
	t->proc->tty_dropped = true;
	pthread_mutex_unlock(&t->k->lock);
	return 0;
}

/* tty_perform_flush(): the queue the caller reads or writes. */
static int tcflsh(struct tty *tty, enum side side, int arg)
{
	bool in, out;

	switch (arg) {
	case TCIFLUSH:
		in = true, out = false;
		break;
	case TCOFLUSH:
		in = false, out = true;
		break;
	case TCIOFLUSH:
		in = out = true;
		break;
	default:
		return -EINVAL;
	}
	if (side == SIDE_MASTER) {	/* the master reads the output queue */
		bool tmp = in;

		in = out;
		out = tmp;
	}
	pthread_mutex_lock(&tty->lock);
	if (in)
		tty->rtail = tty->chead = tty->rhead;
	if (out)
		tty->otail = tty->ohead;
	pthread_mutex_unlock(&tty->lock);
	wake_all(tty);
	return 0;
}

static long tty_ioctl(struct file *f, enum side side, unsigned int cmd,
		      void *arg)
{
	struct tty *tty = f->priv;
	bool master = side == SIDE_MASTER;
	struct proc_ids ids;
	int v = 0, r;

	if (!master && tty->hungup)	/* hung_up_tty_ioctl() */
		return cmd == TIOCSPGRP ? -ENOTTY : -EIO;
	if (arg && cmd != TCGETS && cmd != TIOCGWINSZ && cmd != TIOCSWINSZ &&
	    cmd != TCSETS && cmd != TCSETSW && cmd != TCSETSF)
		memcpy(&v, arg, sizeof(v));
	switch (cmd) {
	case TCGETS:
		pthread_mutex_lock(&tty->lock);
		memcpy(arg, &tty->tio, sizeof(tty->tio));
		pthread_mutex_unlock(&tty->lock);
		return 0;
	case TCSETS:
	case TCSETSW:
	case TCSETSF: {
		struct ktermios nt;

		r = job_check(tty, SIGTTOU);
		if (r)
			return r;
		memcpy(&nt, arg, sizeof(nt));
		pthread_mutex_lock(&tty->lock);
		/* TCSETSW/F wait for output to drain: a pty has no
		 * transmitter, so there is nothing to wait for. */
		if (cmd == TCSETSF)
			tty->rtail = tty->chead = tty->rhead;
		set_termios(tty, &nt);
		pthread_mutex_unlock(&tty->lock);
		wake_all(tty);
		return 0;
	}
	case TIOCGWINSZ:
		pthread_mutex_lock(&tty->lock);
		memcpy(arg, &tty->ws, sizeof(tty->ws));
		pthread_mutex_unlock(&tty->lock);
		return 0;
	case TIOCSWINSZ: {
		struct winsize ws;
		bool changed;
		int pgrp;

		memcpy(&ws, arg, sizeof(ws));
		pthread_mutex_lock(&tty->lock);
		changed = memcmp(&ws, &tty->ws, sizeof(ws)) != 0;
		tty->ws = ws;
		pgrp = tty->pgrp;
		pthread_mutex_unlock(&tty->lock);
		/* tty_do_resize(): SIGWINCH to the foreground group. */
		if (changed)
			send_pgrp(ipc_current(), pgrp, SIGWINCH);
		return 0;
	}
	case FIONREAD:
		pthread_mutex_lock(&tty->lock);
		v = (int)(master ? ocount(tty) : inq(tty));
		pthread_mutex_unlock(&tty->lock);
		break;
	case TIOCOUTQ:
		pthread_mutex_lock(&tty->lock);
		v = (int)(master ? icount(tty) : ocount(tty));
		pthread_mutex_unlock(&tty->lock);
		break;
	case TCFLSH:
		return tcflsh(tty, side, v);
	case TCSBRK:
	case TCSBRKP:
	case TIOCEXCL:
	case TIOCNXCL:
		return 0;
	case TCXONC:
		return v >= TCOOFF && v <= TCION ? 0 : -EINVAL;
	case TIOCGETD:
		v = 0;		/* N_TTY */
		break;
	case TIOCSETD:
		return v == 0 ? 0 : -EINVAL;
	case TIOCGPTN:
		if (!master)
			return -ENOTTY;
		v = tty->index;
		break;
	case TIOCSPTLCK:
		if (!master)
			return -ENOTTY;
		pthread_mutex_lock(&tty->lock);
		tty->locked = v != 0;
		pthread_mutex_unlock(&tty->lock);
		return 0;
	case TIOCGPTLCK:
		if (!master)
			return -ENOTTY;
		v = tty->locked;
		break;
	case TIOCGPTPEER: {
		struct task *t = ipc_current();
		struct file *peer;
		int flags = v;

		if (!master)
			return -ENOTTY;
		if (!t || (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK |
				     O_CLOEXEC)))
			return -EINVAL;
		r = devpts_open_peer(tty, flags, &peer);
		if (r < 0)
			return r;
		r = fdtable_alloc(t->fdt, peer, 0, flags & O_CLOEXEC,
				  (int)MIN(t->rlimits[RLIMIT_NOFILE].rlim_cur,
					   (uint64_t)VFS_NR_OPEN));
		vfs_file_put(peer);
		return r;
	}
	case TIOCSIG:
		if (!master)
			return -ENOTTY;
		if (v <= 0 || v >= CV_NSIG)
			return -EINVAL;
		pthread_mutex_lock(&tty->lock);
		r = tty->pgrp;
		pthread_mutex_unlock(&tty->lock);
		send_pgrp(ipc_current(), r, v);
		return 0;
	case TIOCSCTTY:
		return tiocsctty(tty, v);
	case TIOCNOTTY:
		return master ? -ENOTTY : tiocnotty(tty);
	case TIOCGPGRP:
		/* tiocgpgrp(): through the slave only for its session. */
		if (!master && !is_my_ctty(tty, &ids))
			return -ENOTTY;
		pthread_mutex_lock(&tty->lock);
		v = tty->pgrp;
		pthread_mutex_unlock(&tty->lock);
		break;
	case TIOCSPGRP:
		return tiocspgrp(tty, v);
	case TIOCGSID:
		if (!master && !is_my_ctty(tty, &ids))
			return -ENOTTY;
		pthread_mutex_lock(&tty->lock);
		v = tty->session;
		pthread_mutex_unlock(&tty->lock);
		if (!v)
			return -ENOTTY;
		break;
	default:
		return -ENOTTY;
	}
	memcpy(arg, &v, sizeof(v));
	return 0;
}

static long master_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	return tty_ioctl(f, SIDE_MASTER, cmd, arg);
}

static long slave_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	return tty_ioctl(f, SIDE_SLAVE, cmd, arg);
}

static int64_t tty_llseek(struct file *f, int64_t off, int whence)
{
	(void)f;
	(void)off;
	(void)whence;
	return -ESPIPE;
}

/* ---- open and release ---- */

static void stream_file(struct file *f)
{
	f->fmode = (f->fmode & ~FMODE_PREAD) | FMODE_STREAM;
}

/* ptmx_open(): tty is new (one reference, which the file takes). */
void tty_open_master(struct tty *tty, struct file *f)
{
	pthread_mutex_lock(&tty->lock);
	tty->master_open = true;
	pthread_mutex_unlock(&tty->lock);
	f->ops = &master_fops;
	f->priv = tty;
	stream_file(f);
}

/* pty_open() on /dev/pts/N (or /dev/tty): takes a tty reference.
 * Gap: Linux also makes the slave the controlling terminal of a session
 * leader that has none when opened without O_NOCTTY
 * (tty_open_proc_set_tty()); vfs_file_open_path() strips O_NOCTTY before
 * the open op runs, so the op cannot tell, and only TIOCSCTTY acquires a
 * terminal here (what login_tty(), forkpty() and Python's pty use). */
int tty_open_slave(struct tty *tty, struct file *f)
{
	pthread_mutex_lock(&tty->lock);
	if (tty->locked || !tty->master_open || tty->hungup) {
		pthread_mutex_unlock(&tty->lock);
		return -EIO;
	}
	tty->slaves++;
	tty->other_closed = false;
	pthread_mutex_unlock(&tty->lock);
	tty_get(tty);
	f->ops = &slave_fops;
	f->priv = tty;
	stream_file(f);
	wake_all(tty);
	return 0;
}

static void slave_release(struct file *f)
{
	struct tty *tty = f->priv;

	epoll_release_file(f, &tty->wq);
	pthread_mutex_lock(&tty->lock);
	if (--tty->slaves == 0)
		tty->other_closed = true;
	pthread_mutex_unlock(&tty->lock);
	wake_all(tty);
	tty_put(tty);
}

static void master_release(struct file *f)
{
	struct tty *tty = f->priv;
	struct task *t = ipc_current();
	int session;

	epoll_release_file(f, &tty->wq);
	devpts_pty_gone(tty);
	pthread_mutex_lock(&tty->lock);
	tty->master_open = false;
	tty->hungup = true;
	session = tty->session;
	tty->session = 0;
	tty->pgrp = 0;
	pthread_mutex_unlock(&tty->lock);
	/* __tty_hangup(): the session leader gets SIGHUP and SIGCONT. */
	if (session) {
		send_tgid(t, session, SIGHUP);
		send_tgid(t, session, SIGCONT);
	}
	wake_all(tty);
	tty_put(tty);
}

/* /dev/tty (tty(4)): the caller's controlling terminal, ENXIO without. */
int tty_open_current(struct inode *ino, struct file *f)
{
	struct proc_ids ids;
	struct tty *tty = ctty_of(ipc_current(), &ids);
	int r;

	(void)ino;
	if (!tty)
		return -ENXIO;
	r = tty_open_slave(tty, f);
	tty_put(tty);
	return r;
}

/*
 * /dev/console: the controlling terminal when there is one, else an alias
 * of the sandbox's own standard output (the host stdio file init got), so
 * writes to the console end up where the container's output goes. The
 * alias forwards I/O, poll and ioctls to that file.
 */
static ssize_t con_read(struct file *f, const struct iovec *iov, int cnt,
			int64_t *off)
{
	(void)off;
	return vfs_read_iov(f->priv, iov, cnt, NULL);
}

static ssize_t con_write(struct file *f, const struct iovec *iov, int cnt,
			 int64_t *off)
{
	(void)off;
	return vfs_write_iov(f->priv, iov, cnt, NULL);
}

static uint32_t con_poll(struct file *f, struct poll_table *pt)
{
	return vfs_poll(f->priv, pt);
}

static long con_ioctl(struct file *f, unsigned int cmd, void *arg)
{
	struct file *target = f->priv;

	return target->ops->ioctl ? target->ops->ioctl(target, cmd, arg)
				  : -ENOTTY;
}

static void con_release(struct file *f)
{
	vfs_file_put(f->priv);
}

static const struct file_ops console_fops = {
	.read = con_read,
	.write = con_write,
	.poll = con_poll,
	.ioctl = con_ioctl,
	.llseek = tty_llseek,
	.release = con_release,
};

int tty_open_console(struct inode *ino, struct file *f)
{
	struct task *t = ipc_current(), *init;
	struct fdtable *fdt = NULL;
	struct file *target;

	if (tty_open_current(ino, f) == 0)
		return 0;
	if (!t)
		return -ENXIO;
	pthread_mutex_lock(&t->k->lock);
	init = t->k->init;
	if (init && init->fdt) {
		fdt = init->fdt;
		fdtable_get_ref(fdt);
	}
	pthread_mutex_unlock(&t->k->lock);
	if (!fdt)
		return -ENXIO;
	target = fdtable_get(fdt, 1);
	fdtable_put(fdt);
	if (!target)
		return -ENXIO;
	if (target->inode || target->hostfd < 0) {
		/* Only the host stdio file, never whatever init put there. */
		vfs_file_put(target);
		return -ENXIO;
	}
	f->ops = &console_fops;
	f->priv = target;
	stream_file(f);
	return 0;
}

static const struct file_ops master_fops = {
	.read = master_read,
	.write = master_write,
	.poll = master_poll,
	.ioctl = master_ioctl,
	.llseek = tty_llseek,
	.release = master_release,
};

static const struct file_ops slave_fops = {
	.read = slave_read,
	.write = slave_write,
	.poll = slave_poll,
	.ioctl = slave_ioctl,
	.llseek = tty_llseek,
	.release = slave_release,
};
