"""Pair queue_handoff_1: the producer/consumer hand-off of queue_handoff.py, maxsize 1."""
from queue_handoff import run

run(1)
