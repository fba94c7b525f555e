/* The C half of package userns: it runs from the ELF constructor list,
 * before the Go runtime exists, because setns into a user or mount
 * namespace is refused to a process with more than one thread and the Go
 * runtime starts threads before any Go code runs.
 *
 * Two jobs:
 *  - pause mode (_SKIFF_PAUSE_FD set): become the pause process that holds
 *    the namespaces. It never returns to Go, so it costs a few pages only.
 *  - fast join: an unprivileged caller joins the user and mount namespaces
 *    of the running pause process and becomes uid 0 there. Any failure
 *    before the first setns leaves the process untouched; Go's Join then
 *    takes the slow path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "constructor.h"

#define PAUSE_COMM "skiff-pause"

static int joined;
static char why[256];

int skiff_userns_joined(void) { return joined; }
const char *skiff_userns_why(void) { return why; }

/* Truncating a long path in the message is fine; it is only for humans. */
static void note(const char *what, const char *detail)
{
	if (snprintf(why, sizeof why, "%s: %s", what, detail) < 0)
		why[0] = 0;
}

/* The pause process: wait until the parent has written our id maps (it
 * writes one byte on the socket at fd), detach from the caller's session and
 * stdio, ack, and sleep forever. Signals a terminal or a dying session sends
 * are ignored; SIGTERM and SIGKILL still end it (Migrate uses SIGKILL). */
static void pause_main(const char *fdstr)
{
	static const int ignored[] = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTSTP,
				      SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGALRM};
	int fd = atoi(fdstr), nul;
	char b;
	size_t i;

	prctl(PR_SET_NAME, PAUSE_COMM, 0, 0, 0);
	if (fd < 3 || read(fd, &b, 1) != 1) {
		static const char msg[] = "skiff: _SKIFF_PAUSE_FD set without a pause handshake\n";
		if (write(2, msg, sizeof msg - 1) < 0) {}
		_exit(1);
	}
	setsid();
	if (chdir("/") < 0) {}
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
	}
	for (i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		signal(ignored[i], SIG_IGN);
	if (write(fd, "1", 1) != 1)
		_exit(1);
	/* Nothing the parent had open (locks, pipes) may stay held. */
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		for (i = 3; i < 1024; i++)
			close(i);
	for (;;)
		pause();
}

/* StateDir() of the Go side, checked the same way: a directory we own. */
static int state_dir(char *dir, size_t n)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int len;

	if (x && *x)
		len = snprintf(dir, n, "%s/skiff", x);
	else
		len = snprintf(dir, n, "/tmp/skiff-run-%u", (unsigned)getuid());
	if (len < 0 || (size_t)len >= n) {
		note("XDG_RUNTIME_DIR", "too long");
		return -1;
	}
	if (lstat(dir, &st) < 0) {
		note(dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		note(dir, "not a directory owned by this user");
		return -1;
	}
	return 0;
}

static int read_pid(const char *dir)
{
	char path[PATH_MAX + 16], buf[32];
	ssize_t n;
	int fd, pid;

	snprintf(path, sizeof path, "%s/pause.pid", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		note(path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	pid = atoi(buf);
	if (pid <= 0)
		note(path, "no pid in it");
	return pid > 0 ? pid : -1;
}

/* A pid file can outlive its process and the pid can be reused: accept only
 * a live (not zombie) process of ours named skiff-pause. */
static int is_pause(int pid)
{
	char path[64], buf[512], *open_, *close_;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (stat(path, &st) < 0 || st.st_uid != geteuid()) {
		note("pause process", "gone or not ours");
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		note(path, strerror(errno));
		return 0;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	open_ = strchr(buf, '(');
	close_ = strrchr(buf, ')');
	if (!open_ || !close_ || close_ < open_ || close_[1] != ' ') {
		note(path, "unreadable");
		return 0;
	}
	*close_ = 0;
	if (strcmp(open_ + 1, PAUSE_COMM) != 0 || close_[2] == 'Z' || close_[2] == 'X') {
		note("pause process", "pid reused or exited");
		return 0;
	}
	return 1;
}

static void join_pause(void)
{
	char dir[PATH_MAX], path[64], cwd[PATH_MAX];
	int pid, userfd, mntfd;

	if (state_dir(dir, sizeof dir) < 0 || (pid = read_pid(dir)) < 0 || !is_pause(pid))
		return;
	snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
	userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%d/ns/mnt", pid);
	mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0) {
		note("opening the pause namespaces", strerror(errno));
		goto out;
	}
	/* setns into a mount namespace resets the working directory to its
	 * root; the pause's namespace is a copy of the host's, so the same path
	 * leads back (relative paths on the command line keep working). */
	if (getcwd(cwd, sizeof cwd) == NULL)
		cwd[0] = 0;
	if (setns(userfd, CLONE_NEWUSER) < 0) {
		note("joining the user namespace", strerror(errno));
		goto out;
	}
	/* From here on there is no way back: report failures as half joined. */
	joined = -1;
	if (setns(mntfd, CLONE_NEWNS) < 0) {
		note("joining the mount namespace", strerror(errno));
		goto out;
	}
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		note("becoming root in the user namespace", strerror(errno));
		goto out;
	}
	/* The uid change cleared the dumpable flag, which would hand our /proc
	 * files to an unmapped owner; we are an ordinary process of the user. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	if (cwd[0] && chdir(cwd) < 0) {}
	joined = 1;
	why[0] = 0;
out:
	if (userfd >= 0)
		close(userfd);
	if (mntfd >= 0)
		close(mntfd);
}

__attribute__((constructor)) static void skiff_userns_init(void)
{
	const char *p = getenv("_SKIFF_PAUSE_FD"), *off = getenv("_SKIFF_NOJOIN");

	if (p && *p)
		pause_main(p);
	if (geteuid() == 0) /* rootful, or already inside (a child of a joined process) */
		return;
	if (off && strcmp(off, "1") == 0) {
		note("fast join", "disabled by _SKIFF_NOJOIN=1");
		return;
	}
	join_pause();
}
