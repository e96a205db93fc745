/* Lock-order inversion detector (cycles in the lock-order graph). */
#ifndef PW_LOCKORDER_H
#define PW_LOCKORDER_H

struct pw_process;
struct pw_findings;

/* Appends a lock-order-inversion finding per valid cycle of P's lock edges (the
 * model's LOCK_EDGE notes).  Runs after the deadlock detector so cycles that
 * deadlocked are not repeated.  Out of memory marks FS (pw_findings_status). */
void pw_detect_lock_order(struct pw_process *p, struct pw_findings *fs);

#endif
