/* runstat.c — run a command and report its wall time, CPU time and peak RSS.
 *
 *   usage: runstat CMD [ARGS...]
 *
 * The benchmarks' stopwatch (GNU time is not installed everywhere); CPU
 * per job matters as much as the rate: the command runs with our stdin,
 * stdout and stderr, and when it ends we print
 *   "runstat_kib N wall_s S user_s U sys_s Y"
 * on stderr and exit with its status (128 + the signal number if a signal
 * ended it). N is ru_maxrss from wait4 (KiB on Linux); U and Y are the
 * command's user and system CPU seconds, its threads included. */
#define _DEFAULT_SOURCE /* wait4 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double t0;
	pid_t pid, got;
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: runstat CMD [ARGS...]\n");
		return 2;
	}
	fflush(NULL);
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "runstat: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	memset(&ru, 0, sizeof(ru));
	do
		got = wait4(pid, &status, 0, &ru);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		perror("runstat: wait4");
		return 1;
	}
	fprintf(stderr, "runstat_kib %ld wall_s %.3f user_s %.3f sys_s %.3f\n",
		(long)ru.ru_maxrss, now_s() - t0, tv_s(ru.ru_utime),
		tv_s(ru.ru_stime));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
