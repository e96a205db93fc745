/* Properties of park ops, object types and event kinds, expanded from the
 * columns of their lists in trace.h.  Both wings include this: the shim names
 * channels in its reports, the analyzer builds its model and dump prints raw
 * records.  Every predicate is a lookup in a constant table (no call, no
 * branch per op), so the shim can use them on any path.  A new park op or
 * object type is one row in trace.h; nothing here changes. */
#ifndef PARKWATCH_OPS_H
#define PARKWATCH_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "parkwatch/trace.h"

/* ---- object types */

static inline bool pw_obj_is_lock(unsigned type)
{
    static const bool lock[PW_OBJ__COUNT] = {
#define PW_X(name, str, is_lock, is_chan) [PW_OBJ_##name] = is_lock,
        PW_OBJ_TYPES(PW_X)
#undef PW_X
    };
    return type < PW_OBJ__COUNT && lock[type];
}

static inline bool pw_obj_is_chan(unsigned type)
{
    static const bool chan[PW_OBJ__COUNT] = {
#define PW_X(name, str, is_lock, is_chan) [PW_OBJ_##name] = is_chan,
        PW_OBJ_TYPES(PW_X)
#undef PW_X
    };
    return type < PW_OBJ__COUNT && chan[type];
}

/* ---- park ops */

/* The object type an op's obj field names (PW_OBJ_NONE for none or out of range). */
static inline enum pw_obj_type pw_op_obj_type(unsigned op)
{
    static const uint8_t obj[PW_OP__COUNT] = {
#define PW_X(name, str, o, dir, strict) [PW_OP_##name] = PW_OBJ_##o,
        PW_PARK_OPS(PW_X)
#undef PW_X
    };
    return op < PW_OP__COUNT ? (enum pw_obj_type)obj[op] : PW_OBJ_NONE;
}

static inline enum pw_dir pw_op_dir(unsigned op)
{
    static const uint8_t dir[PW_OP__COUNT] = {
#define PW_X(name, str, o, d, strict) [PW_OP_##name] = PW_DIR_##d,
        PW_PARK_OPS(PW_X)
#undef PW_X
    };
    return op < PW_OP__COUNT ? (enum pw_dir)dir[op] : PW_DIR_NONE;
}

/* A strict wait-for edge: only the holder (or the joined thread) ends the wait. */
static inline bool pw_op_strict(unsigned op)
{
    static const bool strict[PW_OP__COUNT] = {
#define PW_X(name, str, o, dir, s) [PW_OP_##name] = s,
        PW_PARK_OPS(PW_X)
#undef PW_X
    };
    return op < PW_OP__COUNT && strict[op];
}

/* Parks on a channel id (receive or send side). */
static inline bool pw_op_is_chan(unsigned op)
{
    return pw_obj_is_chan(pw_op_obj_type(op));
}

/* Parks to acquire a lock (mutex, rwlock either side, spinlock). */
static inline bool pw_op_is_lock(unsigned op)
{
    return pw_obj_is_lock(pw_op_obj_type(op));
}

static inline bool pw_op_is_recv(unsigned op)
{
    return pw_op_dir(op) == PW_DIR_RECV;
}

static inline bool pw_op_is_send(unsigned op)
{
    return pw_op_dir(op) == PW_DIR_SEND;
}

/* ---- event kinds: what the op and obj fields name */

static inline enum pw_op_field pw_event_op_field(unsigned kind)
{
    static const uint8_t opf[PW_EV__COUNT] = {
#define PW_X(name, str, o, objf) [PW_EV_##name] = PW_OPF_##o,
        PW_EVENT_KINDS(PW_X)
#undef PW_X
    };
    return kind < PW_EV__COUNT ? (enum pw_op_field)opf[kind] : PW_OPF_NUM;
}

/* What EV's obj names, PW_OBJF_BY_OP resolved through its park op. */
static inline enum pw_obj_field pw_event_obj_field(unsigned kind, unsigned op)
{
    static const uint8_t objf[PW_EV__COUNT] = {
#define PW_X(name, str, o, f) [PW_EV_##name] = PW_OBJF_##f,
        PW_EVENT_KINDS(PW_X)
#undef PW_X
    };
    enum pw_obj_field f = kind < PW_EV__COUNT ? (enum pw_obj_field)objf[kind] : PW_OBJF_ADDR;
    if (f != PW_OBJF_BY_OP)
        return f;
    if (pw_op_is_chan(op))
        return PW_OBJF_CHAN;
    return pw_op_obj_type(op) == PW_OBJ_THREAD ? PW_OBJF_THREAD : PW_OBJF_ADDR;
}

#endif
