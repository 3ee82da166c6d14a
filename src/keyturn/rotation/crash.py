"""The test-only crash hook: `KEYTURN_TEST_CRASH_AFTER=<point>` SIGKILLs keyturn right there,
so tests can prove that `keyturn resume` recovers from a crash at any moment."""

from __future__ import annotations

import os
import signal

CRASH_HOOK = "KEYTURN_TEST_CRASH_AFTER"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_HOOK) == name:
        os.kill(os.getpid(), signal.SIGKILL)
