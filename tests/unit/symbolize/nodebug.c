/* Built without debug info: frames in it must show the ELF symbol and no file. */
#include "nodebug.h"

void *pw_nodebug_trampoline(void *(*fn)(void))
{
    void *r = fn();
    /* Keeps the call from becoming a tail call: its return address must stay
     * inside this function. */
    __asm__ volatile("" ::: "memory");
    return r;
}
