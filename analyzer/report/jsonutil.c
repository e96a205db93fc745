/* jansson helpers shared by the JSON and SARIF writers. */
#include "jsonutil.h"

#include <stdlib.h>
#include <string.h>

/* The catcher of the writer being run (pw_json_catch); NULL outside one. */
static jmp_buf *catcher;

void pw_json_catch(jmp_buf *env)
{
    catcher = env;
}

void pw_json_oom(void)
{
    /* outside pw_json_catch is a programming error, not a memory shortage */
    if (!catcher)
        abort();
    longjmp(*catcher, 1);
}

void pw_json_set(json_t *o, const char *key, json_t *v)
{
    if (!v || json_object_set_new(o, key, v) != 0)
        pw_json_oom();
}

void pw_json_push(json_t *a, json_t *v)
{
    if (!v || json_array_append_new(a, v) != 0)
        pw_json_oom();
}

json_t *pw_json_str(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = strdup(s);
    if (!copy)
        pw_json_oom();
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    j = json_string(copy);
    free(copy);
    if (!j)
        pw_json_oom();
    return j;
}

int pw_json_write(FILE *f, json_t *root)
{
    if (!root)
        return -1;
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', f);
    json_decref(root);
    return rc == 0 ? 0 : -1;
}
