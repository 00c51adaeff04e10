"""What the Tornado twins of lesson 04 share: the document's clock.

Lesson 04's programs run on an event loop, so their twins run on Tornado's (Debian's
python3-tornado). Every sleep is the document's seconds divided by LESSON_SPEED, as in
the C programs.
"""
import os

SPEED = float(os.environ.get("LESSON_SPEED", "1"))


def seconds(doc_seconds):
    return doc_seconds / SPEED
