"""A reader that stops reading (``share-worker show item x | head -1``): the command ends quietly
with the status a shell reports for a program killed by SIGPIPE, instead of a traceback.

Python ignores SIGPIPE, so a write to a closed pipe raises BrokenPipeError; what Python's
documentation recommends (https://docs.python.org/3/library/signal.html#note-on-sigpipe) is to point
standard output at /dev/null, so that the flush at exit, with the rest of the output still buffered,
does not fail again.
"""

from __future__ import annotations

import os
import signal
import sys

BROKEN_PIPE_STATUS = 128 + signal.SIGPIPE


def quiet_stdout() -> None:
    """Standard output goes to /dev/null from now on."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
