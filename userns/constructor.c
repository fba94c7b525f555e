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

/* Re-made pause (_SKIFF_PAUSE_JOIN=1): hold the user and mount namespaces
 * of a running monitor, open on fds 4 and 5, instead of new ones. A failure
 * is told to the parent on the handshake socket. */
static void pause_join(int fd)
{
	char msg[256];

	if (setns(4, CLONE_NEWUSER) < 0) {
		snprintf(msg, sizeof msg, "joining the monitor's user namespace: %s", strerror(errno));
		goto fail;
	}
	if (setns(5, CLONE_NEWNS) < 0) {
		snprintf(msg, sizeof msg, "joining the monitor's mount namespace: %s", strerror(errno));
		goto fail;
	}
	close(4);
	close(5);
	return;
fail:
	if (write(fd, msg, strlen(msg)) < 0) {}
	_exit(1);
}

/* The pause process: wait until the parent has written our id maps (it
 * writes one byte on the socket at fd), detach from the caller's session and
 * stdio, ack, and sleep forever. Signals a terminal or a dying session sends
 * are ignored; SIGTERM and SIGKILL still end it (Migrate uses SIGKILL). */
static void pause_main(const char *fdstr, const char *join)
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
	if (join && strcmp(join, "1") == 0)
		pause_join(fd);
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

/* Reads up to n-1 bytes of path, NUL-terminated; -1 when unreadable. */
static ssize_t read_small(const char *path, char *buf, size_t n)
{
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	len = read(fd, buf, n - 1);
	close(fd);
	buf[len > 0 ? len : 0] = 0;
	return len;
}

/* A real directory owned by us. */
static int usable_dir(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

/* The run root recorded for this store (statedir.go): used instead of the
 * computed one when it differs, is from this boot and is usable. */
static int recorded_dir(char *dir, size_t n, const char *computed)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char path[PATH_MAX], rec[PATH_MAX + 64], boot[64], *nl, *rboot;
	int len;

	if (data && data[0] == '/')
		len = snprintf(path, sizeof path, "%s/skiff/runroot", data);
	else if (home && home[0] == '/')
		len = snprintf(path, sizeof path, "%s/.local/share/skiff/runroot", home);
	else
		return -1;
	if (len < 0 || (size_t)len >= sizeof path || read_small(path, rec, sizeof rec) <= 0)
		return -1;
	if (read_small("/proc/sys/kernel/random/boot_id", boot, sizeof boot) <= 0)
		return -1;
	boot[strcspn(boot, "\n")] = 0;
	nl = strchr(rec, '\n');
	if (!nl || rec[0] != '/')
		return -1;
	*nl = 0;
	rboot = nl + 1;
	rboot[strcspn(rboot, "\n")] = 0;
	if (!boot[0] || strcmp(rboot, boot) != 0 || strcmp(rec, computed) == 0 || !usable_dir(rec))
		return -1;
	if ((size_t)snprintf(dir, n, "%s", rec) >= n)
		return -1;
	return 0;
}

/* StateDir() of the Go side, checked the same way: a directory we own. */
static int state_dir(char *dir, size_t n)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	char computed[PATH_MAX];
	struct stat st;
	int len;

	if (x && *x && x[0] != '/') {
		note("XDG_RUNTIME_DIR", "not an absolute path");
		return -1;
	}
	if (x && *x)
		len = snprintf(computed, sizeof computed, "%s/skiff", x);
	else
		len = snprintf(computed, sizeof computed, "/tmp/skiff-run-%u", (unsigned)getuid());
	if (len < 0 || (size_t)len >= sizeof computed || (size_t)len >= n) {
		note("XDG_RUNTIME_DIR", "too long");
		return -1;
	}
	if (recorded_dir(dir, n, computed) < 0)
		memcpy(dir, computed, (size_t)len + 1);
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
		pause_main(p, getenv("_SKIFF_PAUSE_JOIN"));
	if (geteuid() == 0) /* rootful, or already inside (a child of a joined process) */
		return;
	if (off && strcmp(off, "1") == 0) {
		note("fast join", "disabled by _SKIFF_NOJOIN=1");
		return;
	}
	join_pause();
}
