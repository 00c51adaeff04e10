"""Pair queue_handoff_2: the producer/consumer hand-off of queue_handoff.py, maxsize 2."""
from queue_handoff import run

run(2)
