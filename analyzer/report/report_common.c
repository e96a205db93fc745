/* What the report writers share: the summary counts of the JSON and SARIF
 * reports and the symbol names of objects.  Wording that two writers print
 * lives here once, so that the formats cannot drift apart. */
#include <jansson.h>

#include "frames.h"
#include "jsonutil.h"
#include "model.h"
#include "report.h"

enum {
#define PW_X(field, jkey, jpos, skey, spos) PW_SUM_##field,
    PW_SUMMARY_COUNTS(PW_X)
#undef PW_X
        PW_SUM__COUNT
};

static const struct {
    const char *key[2]; /* by enum pw_summary_style */
    unsigned place[2];
} summary_keys[PW_SUM__COUNT] = {
#define PW_X(field, jkey, jpos, skey, spos) {{jkey, skey}, {jpos, spos}},
    PW_SUMMARY_COUNTS(PW_X)
#undef PW_X
};

json_t *pw_report_summary_json(const struct pw_report *r, enum pw_summary_style style)
{
    struct pw_report_summary s;
    pw_report_summarize(r, &s);
    const json_int_t value[PW_SUM__COUNT] = {
#define PW_X(field, jkey, jpos, skey, spos) (json_int_t) s.field,
        PW_SUMMARY_COUNTS(PW_X)
#undef PW_X
    };
    json_t *o = json_object();
    for (unsigned place = 0; place < PW_SUM__COUNT; place++)
        for (unsigned i = 0; i < PW_SUM__COUNT; i++)
            if (summary_keys[i].place[style] == place)
                pw_json_set(o, summary_keys[i].key[style], json_integer(value[i]));
    return o;
}

const char *pw_report_object_symbol(const struct pw_report *r, const struct pw_object *o)
{
    switch (o->type) {
    case PW_OBJ_MUTEX:
    case PW_OBJ_RWLOCK:
    case PW_OBJ_SPIN:
    case PW_OBJ_COND:
    case PW_OBJ_SEM:
    case PW_OBJ_BARRIER:
    case PW_OBJ_FUTEX:
        return r->frames ? pw_frames_data_name(r->frames, o->proc->trace, o->key) : NULL;
    default:
        return NULL;
    }
}
