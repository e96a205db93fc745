#!/usr/bin/python3
# A true hang in Python: threads "one" and "two" deadlocked on two
# threading.Lock objects (A then B, B then A, met at a barrier), main joining
# them.  CPython's locks wait in sem_wait; no timer is armed, no signal
# pending (only Python's own SIGINT handler is installed): still stopped, as
# the C hangs are (issue 13).  Debian's /usr/bin/python3, see py_event_signal.
import threading

a = threading.Lock()
b = threading.Lock()
met = threading.Barrier(2)


def take(first, second):
    with first:
        met.wait()
        with second:
            pass


t1 = threading.Thread(target=take, args=(a, b), name="one")
t2 = threading.Thread(target=take, args=(b, a), name="two")
t1.start()
t2.start()
print("started", flush=True)
t1.join()
t2.join()
print("never reached", flush=True)
