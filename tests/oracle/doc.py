"""What the Python 3 twins of the documents' programs share.

The documents' programs are Python 2. Their twins here keep every print, sleep, thread
and generator step, in Python 3 (print(), _thread, next(gen)), with two changes that do
not touch the output: sleeps are divided by LESSON_SPEED, and the main thread waits for
the other threads to end instead of spinning in `while 1: pass`.
"""
import _thread
import os
import sys
import time

SPEED = float(os.environ.get("LESSON_SPEED", "1"))

# CPython hands the GIL to a waiting thread when the running one blocks (in a sleep, or
# in a system call such as the write(2) of an unbuffered print), or after this interval.
# The documents' listings show hand-offs at the sleeps only: tests/oracle.sh keeps stdout
# buffered, and a long interval keeps a loaded machine from forcing a switch.
sys.setswitchinterval(1000)


def sleep(seconds):
    time.sleep(seconds / SPEED)


def wait_for_threads():
    while _thread._count():
        time.sleep(0.001)
