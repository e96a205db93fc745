/* pw-synth: writes synthetic traces for the CLI tests.
 *   pw-synth FILE [CUT]      the sample trace (pid 4242), cut to CUT bytes if given
 *   pw-synth --as-traced HOW  pretend to be a traced program: write the sample as
 *                             <trace_dir>/parkwatch.<own pid>.trace (trace_dir from
 *                             PARKWATCH_OPTIONS), print LD_PRELOAD|PARKWATCH_OPTIONS,
 *                             then end as HOW says: N (exit N), kill:N (signal N),
 *                             deadlock (mark deadlock-abort, die of SIGABRT). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synth.h"

static int write_file(const char *path, const struct synth *s, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, s->buf, len) != (ssize_t)len || close(fd) < 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* trace_dir from "key=value:key=value"; the last one wins, like the shim. */
static const char *trace_dir(char *buf, size_t len)
{
    const char *opts = getenv("PARKWATCH_OPTIONS");
    const char *found = NULL;
    for (const char *p = opts; p && *p;) {
        size_t l = strcspn(p, ":");
        if (l > 10 && strncmp(p, "trace_dir=", 10) == 0) {
            snprintf(buf, len, "%.*s", (int)(l - 10), p + 10);
            found = buf;
        }
        p += l + (p[l] == ':');
    }
    return found;
}

static int as_traced(const char *how)
{
    char dir[4096], path[4200];
    if (!trace_dir(dir, sizeof(dir))) {
        fprintf(stderr, "pw-synth: no trace_dir in PARKWATCH_OPTIONS\n");
        return 1;
    }
    struct synth s;
    if (synth_sample(&s, getpid()) < 0)
        return 1;
    if (strcmp(how, "deadlock") == 0)
        s.h->end_kind = PW_END_DEADLOCK_ABORT;
    snprintf(path, sizeof(path), "%s/parkwatch.%d.trace", dir, (int)getpid());
    if (write_file(path, &s, s.len))
        return 1;
    const char *pre = getenv("LD_PRELOAD"), *opt = getenv("PARKWATCH_OPTIONS");
    printf("%s|%s\n", pre ? pre : "", opt ? opt : "");
    fflush(stdout);
    if (strcmp(how, "deadlock") == 0)
        abort();
    if (strncmp(how, "kill:", 5) == 0) {
        signal(atoi(how + 5), SIG_DFL);
        raise(atoi(how + 5));
    }
    return atoi(how);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--as-traced") == 0)
        return as_traced(argv[2]);
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: pw-synth FILE [CUT] | --as-traced HOW\n");
        return 2;
    }
    struct synth s;
    if (synth_sample(&s, 4242) < 0)
        return 1;
    size_t len = argc == 3 ? strtoul(argv[2], NULL, 0) : s.len;
    return write_file(argv[1], &s, len < s.len ? len : s.len);
}
