/* How the process ends, by argument: "return N" returns N from main, "exit N"
 * calls exit(N) from a helper function, "_exit N" calls _exit(N), "fork N"
 * forks a child that calls exit(N) while the parent waits for it and returns
 * 0 (a fork child inherits the exit handlers, with its own trace), "vfork N"
 * vforks a child that calls _exit(N) in the parent's memory, then returns 0.
 * Under a plain LD_PRELOAD (no `parkwatch run` to patch the status after
 * waitpid) the trace must still hold the status (tests/e2e/exit_status.py). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void leave(const char *how, int code)
{
    if (strcmp(how, "exit") == 0)
        exit(code);
    if (strcmp(how, "_exit") == 0)
        _exit(code);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: exit_status return|exit|_exit|fork|vfork N\n");
        return 2;
    }
    int code = atoi(argv[2]);
    /* a recorded lock, so the trace has something in it */
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    if (strcmp(argv[1], "fork") == 0) {
        pid_t child = fork();
        if (child == 0) {
            pthread_mutex_lock(&m);
            pthread_mutex_unlock(&m);
            exit(code);
        }
        int st;
        if (child < 0 || waitpid(child, &st, 0) != child || !WIFEXITED(st))
            return 99;
        printf("child left with %d\n", WEXITSTATUS(st));
        return 0;
    }
    if (strcmp(argv[1], "vfork") == 0) {
        pid_t child = vfork();
        if (child == 0)
            _exit(code); /* in our memory: must not end our trace */
        int st;
        if (child < 0 || waitpid(child, &st, 0) != child || !WIFEXITED(st))
            return 99;
        printf("vfork child left with %d\n", WEXITSTATUS(st));
        return 0;
    }
    printf("leaving by %s %d\n", argv[1], code);
    fflush(stdout);
    leave(argv[1], code);
    return code;
}
