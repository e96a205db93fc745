#!/usr/bin/python3
# Python's threading.Event.wait() set from a signal handler: SIGALRM's handler
# (armed by signal.alarm) calls event.set().  Natively it prints and exits 0
# after about 1 s; under `parkwatch run` the only thread sits in sem_wait with
# nobody else to post, but the armed alarm reaches a handler: not a hang,
# never stopped (issue 13).  /usr/bin/python3 (Debian's, installed by
# scripts/setup), not a python3 first on PATH (a pyenv shim is a shell script).
import signal
import threading

ev = threading.Event()


def on_alarm(signum, frame):
    ev.set()


signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(1)
print("event set by the alarm handler:", ev.wait(), flush=True)
