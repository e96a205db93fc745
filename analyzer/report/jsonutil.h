/* jansson helpers shared by the JSON and SARIF writers. */
#ifndef PW_JSONUTIL_H
#define PW_JSONUTIL_H

#include <jansson.h>
#include <setjmp.h>
#include <stdio.h>

/* Out-of-memory in a writer (diag.h's policy): a report silently missing a
 * key would mislead a script more than no report at all, and checking every
 * constructor in the writers would bury them.  So a writer runs under a
 * catcher: pw_json_oom jumps back to it (report.c's write_report), which
 * returns -1 up to main (exit status 2, one line).  The partial document is
 * leaked: the process ends right after. */
void pw_json_oom(void) __attribute__((noreturn));
/* Installs ENV (set with setjmp by the caller) as the catcher; NULL removes it. */
void pw_json_catch(jmp_buf *env);
/* o[key] = v (stealing v); v == NULL (a failed constructor) is out-of-memory. */
void pw_json_set(json_t *o, const char *key, json_t *v);
/* a.append(v) (stealing v), same rule. */
void pw_json_push(json_t *a, json_t *v);
/* A JSON string from bytes of the traced program, which need not be UTF-8
 * (json_string refuses those): bytes >= 0x80 become '?'. */
json_t *pw_json_str(const char *s);
/* Writes ROOT indented with a final newline and releases it; 0 or -1. */
int pw_json_write(FILE *f, json_t *root);

#endif
