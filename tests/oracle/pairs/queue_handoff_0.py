"""Pair queue_handoff_0: the producer/consumer hand-off of queue_handoff.py, maxsize 0."""
from queue_handoff import run

run(0)
