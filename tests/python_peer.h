/* python_peer.h — a Python peer for a Check suite: a script beside the test's source
 * (or the one an environment variable names), run with Debian's CPython once before the
 * suite and stopped after it. The script prints its ports on stdout, space-separated,
 * once it listens; the suite reads them. */
#ifndef PYTHON_PEER_H
#define PYTHON_PEER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs `python3 -E -B SCRIPT arg1 arg2`, SCRIPT being $env_var or `name` in the
 * directory of source (the caller's __FILE__), and reads n ports. Ends the test program
 * if the peer does not start. Returns its pid, for python_peer_stop. */
static pid_t python_peer_start(const char *source, const char *name, const char *env_var,
                               const char *arg1, const char *arg2, int *ports, int n)
{
    char script[4096];
    const char *env = getenv(env_var);
    snprintf(script, sizeof script, "%s", env ? env : source);
    if (!env) {
        char *slash = strrchr(script, '/');
        char *file = slash ? slash + 1 : script;
        snprintf(file, sizeof script - (size_t)(file - script), "%s", name);
    }
    int pipefd[2];
    if (pipe(pipefd)) {
        perror("pipe");
        exit(EXIT_FAILURE);
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execl("/usr/bin/python3", "python3", "-E", "-B", script, arg1, arg2, (char *)NULL);
        perror("exec /usr/bin/python3");
        _exit(127);
    }
    close(pipefd[1]);
    FILE *in = fdopen(pipefd[0], "r");
    int got = 0;
    while (in && got < n && fscanf(in, "%d", &ports[got]) == 1)
        got++;
    if (got < n) {
        fprintf(stderr, "the peer %s did not start (python3-tornado?)\n", script);
        kill(pid, SIGTERM);
        exit(EXIT_FAILURE);
    }
    fclose(in);
    return pid;
}

static void python_peer_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

#endif
