/* Report pipeline on synthetic traces: model -> detectors -> suppressions ->
 * text/JSON writers -> --fail-on.  Stacks point into this very program (its
 * module map is recorded like the shim would), so frames are symbolized for
 * real and suppression globs match real function names. */
#include <jansson.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "finding.h"
#include "reader.h"
#include "report.h"
#include "suppress.h"
#include "synth.h"

#include "../check.h"

/* ---- the CLI's messages (diag.h): capture the last error */

static char last_err[1024];

static void capture(bool warning, const char *msg)
{
    if (!warning)
        snprintf(last_err, sizeof(last_err), "%s", msg);
    fprintf(stderr, "parkwatch: %s%s\n", warning ? "warning: " : "", msg);
}

/* ---- functions whose addresses become the recorded stacks */

static volatile int sink;

__attribute__((noinline, used)) void fake_worker_main(void)
{
    for (int i = 0; i < 8; i++)
        sink += i;
}

__attribute__((noinline, used)) void fake_pool_start(void)
{
    for (int i = 0; i < 8; i++)
        sink -= i;
}

/* A pc inside F: the symbolizer looks up pc - 1 of a return address. */
static uint64_t pc_in(void (*f)(void))
{
    return (uint64_t)(uintptr_t)f + 4;
}

/* ---- module map of this program, as the shim records it */

struct self_range {
    uint64_t bias, lo, hi;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct self_range *r = data;
    if (info->dlpi_name && info->dlpi_name[0])
        return 0; /* the main program comes first with an empty name */
    r->bias = info->dlpi_addr;
    r->lo = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < r->lo)
            r->lo = a;
        if (a + ph->p_memsz > r->hi)
            r->hi = a + ph->p_memsz;
    }
    return 1;
}

static void add_self_module(struct synth *s)
{
    struct self_range r = {0};
    char path[512];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0 || !dl_iterate_phdr(find_self, &r))
        return;
    path[n] = '\0';
    struct pw_module *m = synth_module(s, path, r.lo, r.hi);
    if (m)
        m->base = r.bias;
}

/* ---- synthetic processes */

enum scenario { POOL_LEAK, UNJOINED_ONLY, LIVE };

/* POOL_LEAK: main exits while 3 workers read a pipe whose write end main
 * never closed.  UNJOINED_ONLY: a worker ended and was never joined.  LIVE:
 * the pool as seen while it still runs (this very process's pid). */
static struct pw_trace *make_trace(enum scenario sc)
{
    struct synth s;
    if (synth_init(&s, &(struct synth_cfg){.max_threads = 8}) < 0)
        return NULL;
    struct pw_trace_header *h = s.h;
    h->pid = sc == LIVE ? getpid() : 4242;
    strcpy(h->exe, "/usr/bin/pool");
    memcpy(h->argv,
           "pool\0-n\0"
           "3",
           10);
    h->argc = 3;
    h->argv_len = 10;
    if (sc != LIVE) {
        h->end_kind = PW_END_EXIT;
        h->end_status = 0;
    }
    h->end_ns = 2000000000ull;
    add_self_module(&s);
    uint64_t park_pcs[] = {pc_in(fake_worker_main)};
    uint64_t create_pcs[] = {pc_in(fake_pool_start)};
    uint32_t park = synth_stack(&s, park_pcs, 1), create = synth_stack(&s, create_pcs, 1);

    struct pw_thread_rec *m = synth_thread(&s, 1, "", PW_TS_ALIVE);
    m->flags = PW_TF_MAIN;
    if (sc == UNJOINED_ONLY) {
        struct pw_thread_rec *t = synth_thread(&s, 2, "worker", PW_TS_EXITED);
        t->parent_serial = 1;
        t->create_stack = create;
        goto done;
    }
    struct pw_chan_rec *c = synth_chan(&s, 2, PW_OBJ_PIPE, 3, 4);
    c->creator = 1;
    c->create_stack = create;
    for (uint32_t serial = 2; serial <= 4; serial++) {
        struct pw_thread_rec *t = synth_thread(&s, serial, "worker", PW_TS_ALIVE);
        t->parent_serial = 1;
        t->create_stack = create;
        t->park_op = PW_OP_PIPE_READ;
        t->park_obj = 2;
        t->park_since_ns = 800000000ull;
        t->park_stack = park;
    }
done:;
    struct pw_trace *t = NULL;
    char err[256];
    if (pw_trace_open_mem(s.buf, s.len, "parkwatch.4242.trace", &t, err, sizeof(err)) < 0)
        fprintf(stderr, "synthetic trace rejected: %s\n", err);
    synth_free(&s);
    return t;
}

/* ---- running the pipeline into a file */

static char out_path[64], supp_path[64];

static struct pw_report_opts opts(enum pw_format fmt, uint32_t fail_on)
{
    return (struct pw_report_opts){.format = fmt,
                                   .output = out_path,
                                   .fail_on = fail_on,
                                   .exitcode = PW_EXIT_FINDINGS,
                                   .trace_dir = "/tmp/pw-x"};
}

/* --fail-on errors: decided on each finding's own severity */
static uint32_t errors_mask(void)
{
    return PW_FAIL_ERRORS;
}

static int run(enum scenario sc, const struct pw_report_opts *o)
{
    struct pw_trace *t = make_trace(sc);
    if (!t)
        return -1;
    int rc = pw_analyze_and_report(&t, 1, o);
    pw_trace_close(t);
    return rc;
}

static char *read_out(void)
{
    FILE *f = fopen(out_path, "r");
    if (!f)
        return strdup("");
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void write_supp(const char *text)
{
    FILE *f = fopen(supp_path, "w");
    fputs(text, f);
    fclose(f);
}

/* ---- JSON */

static void check_keys(json_t *o, const char *const *keys)
{
    CHECK(json_is_object(o));
    for (; *keys; keys++)
        if (!json_object_get(o, *keys)) {
            fprintf(stderr, "missing JSON key '%s'\n", *keys);
            failures++;
        }
}

static void check_frame(json_t *fr)
{
    static const char *const keys[] = {"pc", "function", "file", "line", "module", NULL};
    check_keys(fr, keys);
    CHECK(strncmp(json_string_value(json_object_get(fr, "pc")), "0x", 2) == 0);
}

static const char *first_function(json_t *stack)
{
    json_t *fr = json_array_get(stack, 0);
    return fr ? json_string_value(json_object_get(fr, "function")) : NULL;
}

static void test_json(void)
{
    struct pw_report_opts o = opts(PW_FMT_JSON, errors_mask());
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_FINDINGS);
    json_error_t e;
    json_t *root = json_load_file(out_path, 0, &e);
    CHECK(root);
    if (!root) {
        fprintf(stderr, "JSON does not parse: %s (line %d)\n", e.text, e.line);
        return;
    }
    static const char *const top[] = {"schema",   "tool",    "traces", "processes",
                                      "findings", "summary", NULL};
    check_keys(root, top);
    CHECK(strcmp(json_string_value(json_object_get(root, "schema")), "parkwatch-report/1") == 0);
    json_t *tool = json_object_get(root, "tool");
    CHECK(strcmp(json_string_value(json_object_get(tool, "name")), "parkwatch") == 0);
    CHECK(strcmp(json_string_value(json_object_get(tool, "version")), "0.1.0") == 0);
    CHECK(json_array_size(json_object_get(root, "traces")) == 1);

    json_t *p = json_array_get(json_object_get(root, "processes"), 0);
    static const char *const pkeys[] = {"pid", "ppid",   "exe",     "argv",
                                        "end", "status", "threads", NULL};
    check_keys(p, pkeys);
    CHECK(json_integer_value(json_object_get(p, "pid")) == 4242);
    CHECK(strcmp(json_string_value(json_object_get(p, "end")), "exit") == 0);
    CHECK(json_integer_value(json_object_get(p, "status")) == 0);
    CHECK(json_array_size(json_object_get(p, "argv")) == 3);
    json_t *threads = json_object_get(p, "threads");
    CHECK(json_array_size(threads) == 4);
    static const char *const tkeys[] = {"tid",      "name",  "state",      "op", "object",
                                        "since_ms", "stack", "created_by", NULL};
    json_t *main_t = json_array_get(threads, 0), *w = json_array_get(threads, 1);
    check_keys(main_t, tkeys);
    check_keys(w, tkeys);
    CHECK(strcmp(json_string_value(json_object_get(main_t, "state")), "running") == 0);
    CHECK(json_is_null(json_object_get(main_t, "op")));
    CHECK(json_is_null(json_object_get(main_t, "since_ms")));
    CHECK(json_array_size(json_object_get(main_t, "stack")) == 0);
    CHECK(strcmp(json_string_value(json_object_get(w, "state")), "parked") == 0);
    CHECK(strcmp(json_string_value(json_object_get(w, "op")), "pipe-read") == 0);
    CHECK(strcmp(json_string_value(json_object_get(w, "object")), "pipe#2") == 0);
    CHECK(json_integer_value(json_object_get(w, "since_ms")) == 1200);
    json_t *stack = json_object_get(w, "stack");
    CHECK(json_array_size(stack) >= 1);
    if (json_array_size(stack))
        check_frame(json_array_get(stack, 0));
    const char *fn = first_function(stack);
    CHECK(fn && strcmp(fn, "fake_worker_main") == 0);
    fn = first_function(json_object_get(w, "created_by"));
    CHECK(fn && strcmp(fn, "fake_pool_start") == 0);

    json_t *findings = json_object_get(root, "findings");
    /* kinds are facts: the never-closed pipe, and its readers as leaked
     * threads, linked (related, cause) */
    CHECK(json_array_size(findings) == 2);
    json_t *f = json_array_get(findings, 0);
    static const char *const fkeys[] = {"id",   "related", "kind",    "severity", "message",
                                        "pid",  "count",   "threads", "objects",  "chain",
                                        "hint", "cause",   NULL};
    check_keys(f, fkeys);
    CHECK(strcmp(json_string_value(json_object_get(f, "kind")), "channel-never-closed") == 0);
    CHECK(json_integer_value(json_object_get(f, "id")) == 1);
    json_t *leak = json_array_get(findings, 1);
    CHECK(strcmp(json_string_value(json_object_get(leak, "kind")), "thread-leak") == 0);
    CHECK(json_integer_value(json_object_get(leak, "id")) == 2);
    CHECK(json_integer_value(json_object_get(leak, "cause")) == 1);
    CHECK(json_array_size(json_object_get(leak, "related")) == 1 &&
          json_integer_value(json_array_get(json_object_get(leak, "related"), 0)) == 1);
    CHECK(json_array_size(json_object_get(f, "related")) == 1 &&
          json_integer_value(json_array_get(json_object_get(f, "related"), 0)) == 2);
    CHECK(strcmp(json_string_value(json_object_get(f, "severity")), "error") == 0);
    CHECK(json_integer_value(json_object_get(f, "count")) == 1);
    CHECK(json_array_size(json_object_get(f, "threads")) == 3);
    static const char *const ftkeys[] = {"tid",   "name",       "op", "object",
                                         "stack", "created_by", NULL};
    check_keys(json_array_get(json_object_get(f, "threads"), 0), ftkeys);
    json_t *obj = json_array_get(json_object_get(f, "objects"), 0);
    static const char *const okeys[] = {"id", "type", "created_at", NULL};
    check_keys(obj, okeys);
    CHECK(strcmp(json_string_value(json_object_get(obj, "type")), "pipe") == 0);
    json_t *link = json_array_get(json_object_get(f, "chain"), 0);
    static const char *const lkeys[] = {"tid", "waits_on", "op", "blocked_by", NULL};
    check_keys(link, lkeys);
    /* the write end is held by main (tid 5001 in the synthetic trace) */
    json_t *by = json_object_get(link, "blocked_by");
    CHECK(json_array_size(by) == 1 && json_integer_value(json_array_get(by, 0)) == 5001);

    json_t *sum = json_object_get(root, "summary");
    static const char *const skeys[] = {"errors", "warnings",       "threads",
                                        "events", "dropped_events", NULL};
    check_keys(sum, skeys);
    CHECK(json_integer_value(json_object_get(sum, "errors")) == 2);
    CHECK(json_integer_value(json_object_get(sum, "warnings")) == 0);
    CHECK(json_integer_value(json_object_get(sum, "threads")) == 4);
    json_decref(root);
}

/* ---- text */

static void test_text(void)
{
    struct pw_report_opts o = opts(PW_FMT_TEXT, errors_mask());
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_FINDINGS);
    char *s = read_out();
    CHECK(strstr(s, "parkwatch: channel-never-closed: pipe#2 was never closed; 3 receivers "
                    "parked forever on it  (pid 4242, error)  [1]\n"));
    /* the leak names the channel as its cause and does not repeat its stacks */
    CHECK(strstr(s, "  cause: channel-never-closed pipe#2 (finding 1)\n"));
    CHECK(strstr(s, "  related: finding 2 (thread-leak)\n"));
    /* threads named as dump names them: T<serial> and the name */
    CHECK(strstr(s,
                 "  3 threads parked in pipe-read on pipe#2 for 1200 ms: T2 'worker' (tid 5002), "
                 "T3 'worker' (tid 5003), T4 'worker' (tid 5004)\n"));
    CHECK(strstr(s, "      #0 fake_worker_main ("));
    CHECK(strstr(s, "    created by T1 'main' (tid 5001) at:\n      #0 fake_pool_start ("));
    CHECK(strstr(s, "  chain: worker (pipe-read pipe#2) -> write end held by main"));
    CHECK(strstr(s, "  hint: close the write end"));
    /* grouped: the park stack once per finding, not once per thread */
    CHECK(count_of(s, "#0 fake_worker_main") == 1);
    CHECK(strstr(s, "parkwatch: 2 errors, 0 warnings (0 suppressed) in 1 process; 4 threads, "));
    CHECK(strstr(s, "; traces in /tmp/pw-x\n"));
    free(s);

    CHECK(run(UNJOINED_ONLY, &o) == PW_EXIT_OK);
    s = read_out();
    CHECK(strstr(s, "parkwatch: unjoined-thread: thread worker finished and was never joined  "
                    "(pid 4242, warning)  [1]\n"));
    CHECK(strstr(s, "parkwatch: 0 errors, 1 warning (0 suppressed) in 1 process; 2 threads"));
    free(s);

    CHECK(run(LIVE, &o) == PW_EXIT_OK);
    s = read_out();
    char head[96];
    snprintf(head, sizeof(head), "parkwatch: pid %d is still running; threads parked now:\n",
             (int)getpid());
    CHECK(strstr(s, head));
    CHECK(strstr(s, "  3 threads parked in pipe-read on pipe#2 for "));
    /* not parked and nobody asked the kernel: unknown, never "running" by default */
    CHECK(strstr(s, "  T1 'main' (tid 5001) unknown\n"));
    CHECK(strstr(s, "parkwatch: no findings in 1 process; 4 threads"));
    free(s);
}

/* ---- suppressions */

static void test_supp_parse(void)
{
    bool bad;
    struct pw_suppressions *s = pw_supp_parse("# pool shutdown is a known leak\n\n"
                                              "thread-leak:fake_worker_*\n"
                                              "  * : libfoo_* \n",
                                              "supp", &bad);
    CHECK(s && !bad);
    CHECK(pw_supp_count(s) == 2);
    CHECK(pw_supp_match(s, PW_FK_THREAD_LEAK, "fake_worker_main"));
    CHECK(!pw_supp_match(s, PW_FK_CHAN_NEVER_CLOSED, "fake_worker_main"));
    CHECK(pw_supp_match(s, PW_FK_FD_LEAK, "libfoo_open"));
    CHECK(!pw_supp_match(s, PW_FK_FD_LEAK, "main"));
    CHECK(!pw_supp_match(s, PW_FK_THREAD_LEAK, NULL));
    pw_supp_free(s);

    static const struct {
        const char *text, *msg;
    } bad_files[] = {
        {"thread-leak:x\n\nno colon here\n", "supp:3: expected 'kind:function-glob'"},
        {"thread-leek:x\n", "supp:1: unknown finding kind 'thread-leek'"},
        {"# c\nthread-leak:   \n", "supp:2: empty function glob"},
    };
    for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
        last_err[0] = '\0';
        s = pw_supp_parse(bad_files[i].text, "supp", &bad);
        CHECK(!s && bad);
        CHECK(strncmp(last_err, bad_files[i].msg, strlen(bad_files[i].msg)) == 0);
    }
}

static void test_supp_pipeline(void)
{
    struct pw_report_opts o = opts(PW_FMT_JSON, errors_mask());
    o.suppressions = supp_path;

    /* a rule for one kind leaves the other kind's finding alone: the readers'
     * thread-leak goes, the channel's finding stays, without a dangling link */
    write_supp("thread-leak:fake_worker_*\n");
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_FINDINGS);
    json_t *root = json_load_file(out_path, 0, NULL);
    json_t *sum = json_object_get(root, "summary");
    CHECK(json_integer_value(json_object_get(sum, "suppressed")) == 1);
    CHECK(json_integer_value(json_object_get(sum, "errors")) == 1);
    CHECK(json_array_size(json_object_get(root, "findings")) == 1);
    json_t *f = json_array_get(json_object_get(root, "findings"), 0);
    CHECK(f && strcmp(json_string_value(json_object_get(f, "kind")), "channel-never-closed") == 0);
    CHECK(f && json_array_size(json_object_get(f, "related")) == 0);
    json_decref(root);

    /* the park stack of the parked readers, for both kinds: the findings go */
    write_supp("channel-never-closed:fake_worker_*\nthread-leak:fake_worker_*\n");
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_OK);
    root = json_load_file(out_path, 0, NULL);
    sum = json_object_get(root, "summary");
    CHECK(json_integer_value(json_object_get(sum, "suppressed")) == 2);
    CHECK(json_integer_value(json_object_get(sum, "errors")) == 0);
    CHECK(json_array_size(json_object_get(root, "findings")) == 0);
    json_decref(root);

    /* a created-by / object-creation frame, any kind: nothing left to fail on */
    write_supp("*:fake_pool_*\n");
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_OK);
    o.format = PW_FMT_TEXT;
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_OK);
    char *s = read_out();
    CHECK(strstr(s, "parkwatch: no findings (2 suppressed) in 1 process"));
    CHECK(!strstr(s, "thread-leak"));
    free(s);

    write_supp("thread-leak:main\nbogus\n");
    last_err[0] = '\0';
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_USAGE);
    char want[128];
    snprintf(want, sizeof(want), "%s:2: ", supp_path);
    CHECK(strncmp(last_err, want, strlen(want)) == 0);

    o.suppressions = "/nonexistent/parkwatch.supp";
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_USAGE);
    CHECK(strstr(last_err, "/nonexistent/parkwatch.supp: "));
}

/* ---- --fail-on and formats */

static void test_fail_on(void)
{
    struct pw_report_opts o = opts(PW_FMT_TEXT, 0);
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_OK); /* none */
    o.fail_on = errors_mask();
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_FINDINGS); /* errors */
    o.fail_on = 1u << PW_FK_CHAN_NEVER_CLOSED;
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_FINDINGS); /* a list hitting one kind */
    o.fail_on = 1u << PW_FK_FD_LEAK | 1u << PW_FK_DEADLOCK;
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_OK); /* a list missing both */
    o.fail_on = errors_mask();
    o.exitcode = 7;
    CHECK(run(POOL_LEAK, &o) == 7);
    /* a warning fails only when warnings are asked for */
    CHECK(run(UNJOINED_ONLY, &o) == PW_EXIT_OK);
    o.fail_on = (1u << PW_FK__COUNT) - 1; /* any */
    CHECK(run(UNJOINED_ONLY, &o) == 7);

    /* SARIF follows the same --fail-on decision (its content: tests/sarif/sarif_check.py) */
    o.format = PW_FMT_SARIF;
    o.fail_on = errors_mask();
    CHECK(run(POOL_LEAK, &o) == 7);
    char *sarif = read_out();
    CHECK(sarif && strstr(sarif, "\"version\": \"2.1.0\""));
    CHECK(sarif && strstr(sarif, "\"ruleId\": \"channel-never-closed\""));
    free(sarif);
    o.fail_on = 0;
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_OK);

    o.format = PW_FMT_TEXT;
    o.output = "/nonexistent/dir/report.txt";
    CHECK(run(POOL_LEAK, &o) == PW_EXIT_USAGE);
}

int main(void)
{
    pw_diag_set_sink(capture);
    char dir[] = "/tmp/pw-report-test.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(out_path, sizeof(out_path), "%s/out", dir);
    snprintf(supp_path, sizeof(supp_path), "%s/supp", dir);
    test_json();
    test_text();
    test_supp_parse();
    test_supp_pipeline();
    test_fail_on();
    unlink(out_path);
    unlink(supp_path);
    rmdir(dir);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures != 0;
}
