/* record — runs a lesson program with its trace on (see record.h). */
#include "record.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The directory asynctrace lives in, where the lesson programs are built too. */
static bool own_dir(char *out, size_t outsz)
{
    ssize_t n = readlink("/proc/self/exe", out, outsz - 1);
    if (n <= 0)
        return false;
    out[n] = '\0';
    char *slash = strrchr(out, '/');
    if (!slash)
        return false;
    *slash = '\0';
    return true;
}

/* Execs PROGRAM: beside asynctrace if it is there, else as execvp finds it. */
static void exec_program(char *const argv[])
{
    char dir[PATH_MAX], path[PATH_MAX + 256];
    if (!strchr(argv[0], '/') && own_dir(dir, sizeof dir) &&
        snprintf(path, sizeof path, "%s/%s", dir, argv[0]) < (int)sizeof path && access(path, X_OK) == 0)
        execv(path, argv);
    execvp(argv[0], argv);
}

int record_run(const char *path, char *const argv[])
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "asynctrace: cannot start %s: %s\n", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setenv("LESSON_TRACE", path, 1);
        exec_program(argv);
        fprintf(stderr, "asynctrace: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status);
}
