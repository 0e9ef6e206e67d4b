/* fsync_count.c — an LD_PRELOAD shim for tests: every fsync and fdatasync
 * of the process is passed on and logged as one line, "fsync PATH" or
 * "fdatasync PATH", appended to the file $FSYNC_COUNT_LOG names (nothing
 * is logged without it). The durability test counts the lines to tell
 * synchronous=FULL (the WAL synced at each commit) from NORMAL (synced
 * only at checkpoints). Thread-safe: each line is one write(2) to an
 * O_APPEND file. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fsync(int fd);
int fdatasync(int fd);

/* logged: append "what PATH-of-fd" to $FSYNC_COUNT_LOG. */
static void logged(const char *what, int fd)
{
	const char *log = getenv("FSYNC_COUNT_LOG");
	char link[64], path[PATH_MAX], line[PATH_MAX + 32];
	ssize_t n;
	int out, len;

	if (!log || !*log)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n < 0 ? 0 : n] = '\0';
	len = snprintf(line, sizeof(line), "%s %s\n", what, path);
	if (len < 0 || (size_t)len >= sizeof(line))
		len = (int)strlen(line);
	out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (out < 0)
		return;
	if (write(out, line, (size_t)len) < 0) {
		/* a test that finds the line missing says so */
	}
	close(out);
}

int fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");

	logged("fsync", fd);
	return real(fd);
}

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	logged("fdatasync", fd);
	return real(fd);
}
