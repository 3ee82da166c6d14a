"""Test-only hooks at the protocol's steps: `KEYTURN_TEST_CRASH_AFTER=<point>` SIGKILLs keyturn
right there, so tests prove that `keyturn resume` recovers from a crash at any moment;
`KEYTURN_TEST_FAIL_AFTER=<point>` raises an unexpected error there (not a KeyturnError), so
tests prove that even a bug rolls a rotation back instead of leaving it half-changed."""

from __future__ import annotations

import os
import signal

CRASH_HOOK = "KEYTURN_TEST_CRASH_AFTER"
FAIL_HOOK = "KEYTURN_TEST_FAIL_AFTER"


class InjectedFailure(RuntimeError):
    """The unexpected error of KEYTURN_TEST_FAIL_AFTER."""


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_HOOK) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(FAIL_HOOK) == name:
        raise InjectedFailure(f"injected failure after {name}")
