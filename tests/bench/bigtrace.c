/* Writes large synthetic traces for the analyzer benchmarks:
 *   bigtrace events N OUT   a trace holding N ring events (40 threads of pipe,
 *                           mutex and cond traffic, some parked at the end)
 *   bigtrace findings M OUT a finished process with M threads leaked on M conds,
 *                           each with its own stack, so the report has M findings
 *                           to symbolize.
 *   bigtrace rss CMD...     runs CMD (output to /dev/null) and prints its peak
 *                           RSS in KiB and its user and system CPU seconds: a
 *                           child forked by Python would count Python's own
 *                           pages in its peak (the pages it had before exec).
 * Stacks point into this executable (recorded in the module map), so the
 * analyzer symbolizes them from real DWARF. */
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synth.h"

#define THREADS 40

struct text_range {
    uint64_t lo, hi, base;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct text_range *r = data;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* the main program comes first, with an empty name */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            r->lo = info->dlpi_addr + ph->p_vaddr;
            r->hi = r->lo + ph->p_memsz;
            r->base = info->dlpi_addr;
            return 1;
        }
    }
    return 0;
}

static void add_module(struct synth *s, struct text_range *r)
{
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = 0;
    dl_iterate_phdr(find_text, r);
    struct pw_module *m = synth_module(s, exe, r->lo, r->hi);
    if (m)
        m->base = r->base;
}

/* A stack of 8 pcs spread through the text segment; SEED picks which. */
static uint32_t stack_for(struct synth *s, const struct text_range *r, uint32_t seed)
{
    uint64_t pcs[8], span = r->hi - r->lo;
    for (unsigned i = 0; i < 8; i++)
        pcs[i] = r->lo + 1 + ((uint64_t)seed * 7919u + i * 104729u) % (span - 2);
    return synth_stack(s, pcs, 8);
}

/* Writes the trace to OUT and frees it; 0 on success. */
static int write_out(struct synth *s, const char *out)
{
    FILE *f = fopen(out, "wb");
    int bad = !f || fwrite(s->buf, 1, s->len, f) != s->len;
    if (f && fclose(f) != 0)
        bad = 1;
    synth_free(s);
    return bad;
}

static int events_mode(unsigned long n, const char *out)
{
    uint32_t ring = (uint32_t)(n / THREADS + 1);
    struct synth s;
    struct synth_cfg cfg = {.ring_events = ring,
                            .max_threads = THREADS,
                            .max_chans = 64,
                            .depot_bytes = 1u << 20};
    if (synth_init(&s, &cfg) < 0)
        return 1;
    struct text_range r;
    add_module(&s, &r);
    uint32_t stacks[64];
    for (uint32_t i = 0; i < 64; i++)
        stacks[i] = stack_for(&s, &r, i);
    for (uint32_t c = 1; c <= 16; c++)
        synth_chan(&s, c, PW_OBJ_PIPE, (int)(2 * c + 10), (int)(2 * c + 11));
    uint64_t t_ns = 1000;
    for (uint32_t t = 0; t < THREADS; t++) {
        struct pw_thread_rec *rec = synth_thread(&s, t + 1, t ? "worker" : "main", PW_TS_ALIVE);
        for (uint32_t i = 0; i < ring && (uint64_t)t * ring + i < n; i++) {
            t_ns += 50;
            struct pw_event e = {.time_ns = t_ns,
                                 .obj = 1 + i % 16,
                                 .obj2 = 12,
                                 .stack = stacks[(t + i) % 64]};
            switch (i % 4) {
            case 0:
                e.kind = PW_EV_PARK, e.op = PW_OP_PIPE_READ;
                break;
            case 1:
                e.kind = PW_EV_UNPARK, e.op = PW_OP_PIPE_READ, e.result = 8;
                break;
            case 2:
                e.kind = PW_EV_CHAN_SEND, e.arg = 8, e.result = 8;
                break;
            default:
                e.kind = PW_EV_COND_SIGNAL, e.obj = 0x601000 + 64 * (i % 32);
                break;
            }
            synth_event(&s, rec, e);
        }
        if (t % 4 == 1) { /* a few parked at the end */
            rec->park_op = PW_OP_PIPE_READ;
            rec->park_obj = 1 + t % 16;
            rec->park_stack = stacks[t % 64];
            rec->park_since_ns = t_ns / 2;
        }
    }
    s.h->end_kind = PW_END_EXIT;
    s.h->end_status = 0;
    s.h->end_ns = t_ns + 1000;
    return write_out(&s, out);
}

static int findings_mode(unsigned long m, const char *out)
{
    struct synth s;
    struct synth_cfg cfg = {.ring_events = 4,
                            .max_threads = (uint32_t)m + 1,
                            .depot_bytes = (uint32_t)(m + 8) * 80};
    if (synth_init(&s, &cfg) < 0)
        return 1;
    struct text_range r;
    add_module(&s, &r);
    struct pw_thread_rec *main_t = synth_thread(&s, 1, "main", PW_TS_ALIVE);
    main_t->flags |= PW_TF_MAIN;
    for (uint32_t i = 0; i < m; i++) {
        struct pw_thread_rec *t = synth_thread(&s, i + 2, "worker", PW_TS_ALIVE);
        t->parent_serial = 1;
        t->create_stack = stack_for(&s, &r, 100000 + i);
        t->park_op = PW_OP_COND_WAIT;
        t->park_obj = 0x601000 + 64 * (uint64_t)i;
        t->park_stack = stack_for(&s, &r, i);
        t->park_since_ns = 1000;
    }
    s.h->end_kind = PW_END_EXIT;
    s.h->end_status = 0;
    s.h->end_ns = 2000000000ull;
    return write_out(&s, out);
}

static int rss_mode(char **cmd)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("bigtrace: fork");
        return 1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execvp(cmd[0], cmd);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("bigtrace: wait4");
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "bigtrace: cannot run %s\n", cmd[0]);
        return 1;
    }
    printf("%ld %ld.%06ld %ld.%06ld\n", ru.ru_maxrss, (long)ru.ru_utime.tv_sec,
           (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "rss") == 0)
        return rss_mode(argv + 2);
    if (argc != 4) {
        fprintf(stderr,
                "usage: bigtrace events N OUT | bigtrace findings M OUT | bigtrace rss CMD...\n");
        return 2;
    }
    unsigned long n = strtoul(argv[2], NULL, 10);
    if (strcmp(argv[1], "events") == 0)
        return events_mode(n, argv[3]);
    if (strcmp(argv[1], "findings") == 0)
        return findings_mode(n, argv[3]);
    fprintf(stderr, "bigtrace: unknown mode '%s'\n", argv[1]);
    return 2;
}
