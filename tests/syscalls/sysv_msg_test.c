/* System V message queues: msgget, msgsnd, msgrcv, msgctl (svipc(7)).
 * IPC_PRIVATE queues only, all removed at the end (natively this runs in
 * the host's IPC namespace). */
#include "tap.h"
#include "sysvipc.h"

#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct m {
	long mtype;
	char text[64];
};

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int snd(int id, long type, const char *s, int flg)
{
	struct m msg = { .mtype = type };

	strcpy(msg.text, s);
	return msgsnd(id, &msg, strlen(s), flg);
}

static void on_sig(int sig)
{
	(void)sig;
}

static long qnum(int id)
{
	struct msqid_ds ds;

	return msgctl(id, IPC_STAT, &ds) ? -1 : (long)ds.msg_qnum;
}

static void test_basic(void)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	struct msqid_ds ds;
	struct m msg;
	long r;

	ok_sys(id, "msgget IPC_PRIVATE");
	ok_sys(msgctl(id, IPC_STAT, &ds), "IPC_STAT");
	is_long((long)ds.msg_qnum, 0, "empty");
	ok(ds.msg_qbytes > 0, "msg_qbytes set (MSGMNB)");
	is_long(ds.msg_perm.mode & 0777, 0600, "mode");

	ok_sys(snd(id, 1, "a", 0), "send type 1");
	ok_sys(snd(id, 2, "bb", 0), "send type 2");
	ok_sys(snd(id, 3, "ccc", 0), "send type 3");
	ok_sys(snd(id, 1, "d", 0), "send type 1 again");
	msgctl(id, IPC_STAT, &ds);
	is_long((long)ds.msg_qnum, 4, "msg_qnum 4");
	is_long((long)ds.__msg_cbytes, 7, "msg_cbytes 7");
	is_long(ds.msg_lspid, getpid(), "msg_lspid");
	ok(ds.msg_stime > 0, "msg_stime");

	r = msgrcv(id, &msg, sizeof(msg.text), 0, MSG_COPY | IPC_NOWAIT);
	if (r == -1 && errno == ENOSYS) {
		skip("no CONFIG_CHECKPOINT_RESTORE", "MSG_COPY");
	} else {
		ok(r == 1 && msg.mtype == 1 && msg.text[0] == 'a',
		   "MSG_COPY index 0 copies the first");
		r = msgrcv(id, &msg, sizeof(msg.text), 2, MSG_COPY | IPC_NOWAIT);
		ok(r == 3 && msg.mtype == 3, "MSG_COPY index 2");
		is_errno(msgrcv(id, &msg, sizeof(msg.text), 9, MSG_COPY | IPC_NOWAIT),
			 ENOMSG, "MSG_COPY past the end: ENOMSG");
		is_long(qnum(id), 4, "MSG_COPY leaves the messages");
	}
	is_errno(msgrcv(id, &msg, sizeof(msg.text), 0, MSG_COPY), EINVAL,
		 "MSG_COPY without IPC_NOWAIT: EINVAL");

	memset(&msg, 0, sizeof(msg));
	r = msgrcv(id, &msg, sizeof(msg.text), 0, 0);
	ok(r == 1 && msg.mtype == 1 && !strcmp(msg.text, "a"), "msgtyp 0: first");
	memset(&msg, 0, sizeof(msg));
	r = msgrcv(id, &msg, sizeof(msg.text), 3, 0);
	ok(r == 3 && msg.mtype == 3 && !strcmp(msg.text, "ccc"), "msgtyp 3");
	memset(&msg, 0, sizeof(msg));
	r = msgrcv(id, &msg, sizeof(msg.text), -2, 0);
	ok(r == 1 && msg.mtype == 1 && !strcmp(msg.text, "d"),
	   "msgtyp -2: lowest type first");
	is_errno(msgrcv(id, &msg, sizeof(msg.text), 2, MSG_EXCEPT | IPC_NOWAIT),
		 ENOMSG, "MSG_EXCEPT 2 with only type 2 left: ENOMSG");
	is_errno(msgrcv(id, &msg, 1, 2, 0), E2BIG, "too small buffer: E2BIG");
	is_long(qnum(id), 1, "E2BIG leaves the message");
	memset(&msg, 0, sizeof(msg));
	r = msgrcv(id, &msg, 1, 0, MSG_NOERROR);
	ok(r == 1 && msg.text[0] == 'b' && msg.text[1] == 0,
	   "MSG_NOERROR truncates");
	is_errno(msgrcv(id, &msg, sizeof(msg.text), 0, IPC_NOWAIT), ENOMSG,
		 "empty + IPC_NOWAIT: ENOMSG");
	msgctl(id, IPC_STAT, &ds);
	is_long(ds.msg_lrpid, getpid(), "msg_lrpid");

	/* Errors. */
	is_errno(snd(id, 0, "x", 0), EINVAL, "mtype 0: EINVAL");
	is_errno(msgsnd(id, &msg, 1 << 20, 0), EINVAL, "msgsz > MSGMAX: EINVAL");
	is_errno(msgsnd(id, BAD_PTR, 1, 0), EFAULT, "bad msgp: EFAULT");
	is_errno(snd(-1, 1, "x", 0), EINVAL, "msgsnd bad id: EINVAL");
	is_errno(msgrcv(-1, &msg, 8, 0, 0), EINVAL, "msgrcv bad id: EINVAL");
	is_errno(msgrcv(id, &msg, (size_t)-1, 0, IPC_NOWAIT), EINVAL,
		 "msgrcv negative size: EINVAL");
	is_errno(msgctl(id, IPC_STAT, BAD_PTR), EFAULT, "IPC_STAT bad ptr");
	is_errno(msgctl(id, 4242, &ds), EINVAL, "bad cmd: EINVAL");
	is_errno(msgget(0x4d000000 | getpid(), 0600), ENOENT, "unknown key: ENOENT");

	/* IPC_SET */
	msgctl(id, IPC_STAT, &ds);
	ds.msg_qbytes = 10;
	ds.msg_perm.mode = 0640;
	ok_sys(msgctl(id, IPC_SET, &ds), "IPC_SET qbytes 10");
	msgctl(id, IPC_STAT, &ds);
	ok(ds.msg_qbytes == 10 && (ds.msg_perm.mode & 0777) == 0640,
	   "IPC_SET applied");
	ok_sys(snd(id, 1, "0123456789", 0), "fill 10 bytes");
	is_errno(snd(id, 1, "x", IPC_NOWAIT), EAGAIN, "full + IPC_NOWAIT: EAGAIN");
	ok_sys(msgctl(id, IPC_RMID, NULL), "IPC_RMID");
	is_errno(qnum(id), EINVAL, "removed: EINVAL");
}

static void test_blocking(void)
{
	int id = msgget(IPC_PRIVATE, 0600);
	struct msqid_ds ds;
	struct m msg;
	pid_t pid;
	long r;

	/* Blocking receive woken by a sender. */
	pid = fork();
	if (pid == 0) {
		msleep(50);
		_exit(snd(id, 7, "wake", 0) ? 1 : 0);
	}
	memset(&msg, 0, sizeof(msg));
	r = msgrcv(id, &msg, sizeof(msg.text), 7, 0);
	ok(r == 4 && !strcmp(msg.text, "wake"), "blocking msgrcv woken by a child");
	is_long(wait_child(pid), 0, "child sent");

	/* Blocking send woken by a receiver. */
	msgctl(id, IPC_STAT, &ds);
	ds.msg_qbytes = 4;
	msgctl(id, IPC_SET, &ds);
	snd(id, 1, "full", 0);
	pid = fork();
	if (pid == 0)
		_exit(snd(id, 2, "next", 0) ? 1 : 0);
	msleep(50);
	is_long(qnum(id), 1, "sender is blocked");
	r = msgrcv(id, &msg, sizeof(msg.text), 1, 0);
	is_long(r, 4, "receive makes room");
	is_long(wait_child(pid), 0, "blocked sender completed");
	r = msgrcv(id, &msg, sizeof(msg.text), 0, IPC_NOWAIT);
	ok(r == 4 && msg.mtype == 2, "its message arrived");

	/* A signal with a handler interrupts msgrcv: EINTR. */
	{
		struct sigaction sa = { .sa_handler = on_sig };
		pid_t parent = getpid();

		sigaction(SIGUSR1, &sa, NULL);
		pid = fork();
		if (pid == 0) {
			msleep(50);
			kill(parent, SIGUSR1);
			_exit(0);
		}
		is_errno(msgrcv(id, &msg, sizeof(msg.text), 0, 0), EINTR,
			 "signal interrupts msgrcv: EINTR");
		wait_child(pid);
		signal(SIGUSR1, SIG_DFL);
	}

	/* IPC_RMID wakes the receiver with EIDRM. */
	pid = fork();
	if (pid == 0) {
		msleep(50);
		_exit(msgctl(id, IPC_RMID, NULL) ? 1 : 0);
	}
	is_errno(msgrcv(id, &msg, sizeof(msg.text), 0, 0), EIDRM,
		 "IPC_RMID wakes the receiver: EIDRM");
	is_long(wait_child(pid), 0, "child removed the queue");
}

static void test_info(void)
{
	struct msginfo mi;
	struct msqid_ds ds;
	int id = msgget(IPC_PRIVATE, 0600);
	int r, found = 0;

	snd(id, 1, "xyz", 0);
	r = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
	ok(r >= 0 && mi.msgmax > 0 && mi.msgmnb > 0 && mi.msgmni > 0, "IPC_INFO");
	r = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
	ok(r >= 0 && mi.msgpool >= 1 && mi.msgmap >= 1 && mi.msgtql >= 3,
	   "MSG_INFO counts queues, messages, bytes");
	for (int i = 0; i <= r; i++)
		if (msgctl(i, MSG_STAT, &ds) == id && ds.msg_qnum == 1)
			found = 1;
	ok(found, "MSG_STAT by index");
	msgctl(id, IPC_RMID, NULL);
}

static void test_proc(void)
{
	static const char hdr[] =
		"       key      msqid perms      cbytes       qnum lspid lrpid"
		"   uid   gid  cuid  cgid      stime      rtime      ctime\n";
	struct { long mtype; char text[16]; } m = { 1, "0123456789" };
	char line[512];
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0620), key, qid;
	unsigned perms, lspid, lrpid;
	unsigned long cbytes, qnum;

	ok_sys(id, "proc: msgget");
	ok_sys(msgsnd(id, &m, 10, 0), "proc: msgsnd 1");
	ok_sys(msgsnd(id, &m, 7, 0), "proc: msgsnd 2");
	ok(sysvipc_line("msg", hdr, id, line, sizeof(line)) == 0,
	   "/proc/sysvipc/msg: header and a line for the queue");
	ok(sscanf(line, "%d %d %o %lu %lu %u %u", &key, &qid, &perms, &cbytes,
		  &qnum, &lspid, &lrpid) == 7 && perms == 0620 &&
	   cbytes == 17 && qnum == 2 && lspid == (unsigned)getpid() &&
	   lrpid == 0, "msg line: perms, cbytes 17, qnum 2, lspid (%s)", line);
	ok_sys(msgctl(id, IPC_RMID, NULL), "proc: IPC_RMID");
	ok(sysvipc_line("msg", hdr, id, line, sizeof(line)) == -3,
	   "removed: the queue is gone from the list");
}

int main(void)
{
	test_basic();
	test_blocking();
	test_info();
	test_proc();
	return done_testing();
}
