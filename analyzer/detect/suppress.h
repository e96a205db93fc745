/* Suppressions: `--suppressions FILE`, one rule per line, `kind:function-glob`.
 * `#` starts a comment line, blank lines are ignored, `*` as kind matches every
 * kind.  A finding is suppressed when its kind matches a rule and the rule's
 * glob (fnmatch) matches the function of any symbolized frame of any stack the
 * finding shows: park and misuse stacks of its threads, their "created by"
 * stacks, and the sites of its objects. */
#ifndef PW_SUPPRESS_H
#define PW_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

struct pw_suppressions;
struct pw_findings;
struct pw_finding;
struct pw_frames;

/* Parses rules from TEXT; NAME is used in messages.  On a malformed line, prints
 * "parkwatch: NAME:LINE: reason" and returns NULL with *bad set; NULL without
 * *bad means out of memory (also reported). */
struct pw_suppressions *pw_supp_parse(const char *text, const char *name, bool *bad);
/* Reads and parses PATH; NULL after a one-line error (missing file too). */
struct pw_suppressions *pw_supp_load(const char *path);
void pw_supp_free(struct pw_suppressions *s);
size_t pw_supp_count(const struct pw_suppressions *s);

/* True if a rule matches finding kind KIND and function name FN.  A frame
 * without a function name (FN NULL) never matches, not even the glob "*". */
bool pw_supp_match(const struct pw_suppressions *s, int kind, const char *fn);

/* Sets f->suppressed on every finding of FS that a rule matches; returns how
 * many were suppressed. */
size_t pw_supp_apply(const struct pw_suppressions *s, struct pw_findings *fs, struct pw_frames *fr);

#endif
