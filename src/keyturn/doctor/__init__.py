"""`keyturn doctor`: failed executions -> cause -> credential -> conclusion -> command.

Reads the failed executions of a time window (with their data), classifies each failure
(`classify`), groups them by credential, and explains them from evidence (`explain`): when the
credential changed (in n8n, or by a keyturn rotation in the journal), when the workflow last
succeeded, whether another credential has the same name, whether the node reads its key from
`$env`. `retry` re-runs the executions whose cause is now fixed.
"""

from keyturn.doctor.classify import classify, collect_failures
from keyturn.doctor.model import (
    CREDENTIAL_CAUSES,
    Cause,
    Diagnosis,
    DoctorReport,
    Evidence,
    FailedRun,
    RetryOutcome,
)
from keyturn.doctor.report import diagnose
from keyturn.doctor.retry import retry_fixed

__all__ = [
    "CREDENTIAL_CAUSES",
    "Cause",
    "Diagnosis",
    "DoctorReport",
    "Evidence",
    "FailedRun",
    "RetryOutcome",
    "classify",
    "collect_failures",
    "diagnose",
    "retry_fixed",
]
