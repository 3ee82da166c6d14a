"""What n8n, a provider or a file says is data, never Rich markup (issue 10, section 3).

Every renderer is fed hypothesis-generated names, messages and details full of `[`, `]`, `[/`,
`[link=...]`, emoji codes, control characters, unicode and very long strings. Rendering must
not raise; the output must hold each value's text literally (control characters shown as
escapes, so none reaches the terminal) and no OSC escape (an OSC 8 hyperlink, a window title).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from keyturn.detect.findings import Finding, Location, ScanResult, Skipped
from keyturn.detect.rules import NODE_PARAMETER
from keyturn.doctor import DoctorReport
from keyturn.doctor.model import Cause, Diagnosis, FailedRun, RetryOutcome
from keyturn.formats.doctor_out import render_report
from keyturn.formats.inventory_table import render_inventory
from keyturn.formats.rotation_out import (
    render_due,
    render_history,
    render_notes,
    render_outcome,
    render_plan,
    render_rolled_back,
    render_rotate_due,
    render_rotations,
    render_step,
)
from keyturn.formats.safe_text import plain, visible
from keyturn.formats.scan_out import render_table
from keyturn.inventory.report import (
    CredentialOut,
    FlagOut,
    InstanceOut,
    InventoryReport,
    StatsOut,
    SummaryOut,
    UsageOut,
)
from keyturn.journal import AuditEvent, Rotation
from keyturn.rotation.planning import RotationPlan
from keyturn.rotation.proofs import CheckResult
from keyturn.rotation.protocol import Outcome
from keyturn.rotation.schedule import DueCredential

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
WIDTH = 100_000  # wide enough that nothing folds: each value must appear in one piece

HOSTILE_PARTS = [
    "[",
    "]",
    "[/",
    "[/]",
    "x [/b]",
    "[b]",
    "[bold red]",
    "\\[",
    "\\",
    "[link=https://evil.example]click[/link]",
    "[link=https://evil.example]",
    "[@click=app.quit]",
    ":smile:",
    ":warning:",
    "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x9b31m",
    "\x9d8;;x\x9c",
    "\u202e",
    "\u2028",
    "\r",
    "\n",
    "\t",
    "\x00",
    "\x7f",
    "é",
    "名前",
    "👩‍💻",
    "\u0301",
]
hostile = st.lists(st.one_of(st.sampled_from(HOSTILE_PARTS), st.text(max_size=20)), max_size=8).map(
    "".join
)
names = st.one_of(hostile, st.text(min_size=300, max_size=1000))
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours and styles: the only escapes keyturn writes
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def shown(value: str) -> str:
    """How a value must appear: as itself, each control character as a visible escape."""
    escapes = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

    def one(char: str) -> str:
        if char in escapes:
            return escapes[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return _CONTROL.sub(lambda match: one(match.group()), value)


def render(draw: Callable[[Console], None]) -> str:
    """What `draw` writes to a colour terminal (hyperlinks would be written, if parsed)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="truecolor", width=WIDTH, emoji=True
    )
    draw(console)
    return buffer.getvalue()


def assert_shows(output: str, *values: str) -> None:
    assert "\x1b]" not in output  # no OSC: no hyperlink, no title
    text = _SGR.sub("", output)
    assert not _CONTROL.search(text.replace("\n", "")), "a control character reached the terminal"
    for value in values:
        # A table cell may end a line where its value ends in whitespace (a trailing no-break
        # space after a wide emoji): Rich drops it there, which hides nothing.
        assert shown(value).rstrip() in text


def test_visible_shows_control_characters_and_keeps_the_rest() -> None:
    assert visible("x [/b] é 名前 :smile:") == "x [/b] é 名前 :smile:"
    assert visible("a\x1b]8;;u\x07b\n\t\u202e\x9b") == "a\\x1b]8;;u\\x07b\\n\\t\\u202e\\x9b"
    assert plain("[link=x]y[/link]", "bold").plain == "[link=x]y[/link]"


@PROPERTY
@given(name=names, workflow=names, node=names, message=names, url=hostile)
def test_inventory_table(name: str, workflow: str, node: str, message: str, url: str) -> None:
    usage = UsageOut(
        workflow_id="w1",
        workflow_name=workflow,
        active=True,
        archived=False,
        node_name=node,
        node_type=node,
        node_disabled=False,
        credential_type=name,
    )
    credential = CredentialOut(
        id=name,
        name=name,
        type=name,
        created_at=NOW,
        updated_at=NOW,
        age_days=3,
        usages=[usage] * 4,
        flags=[name],
    )
    report = InventoryReport(
        generated_at=NOW,
        instance=InstanceOut(name=name, url=url),
        summary=SummaryOut(credentials=1, workflows=1, nodes=1, flags={name: 1}),
        credentials=[credential],
        flags=[
            FlagOut(code=name, severity=name, message=message, credential_id=name),
            FlagOut(
                code="hardcoded_secret",
                severity="error",
                message=message,
                workflow_id="w1",
                workflow_name=workflow,
                node_name=node,
            ),
        ],
        stats=StatsOut(api_requests=2, seconds=0.1),
    )
    assert_shows(render(lambda c: render_inventory(report, c)), name, workflow, node, message, url)


def _run(name: str, message: str) -> FailedRun:
    return FailedRun(
        execution_id=name,
        workflow_id=name,
        started_at=NOW,
        node_name=name,
        node_type=name,
        credential_id=name,
        credential_name=name,
        credential_type=name,
        cause=Cause.AUTH_REFUSED,
        message=message,
        http_code="401",
    )


@PROPERTY
@given(name=names, message=names)
def test_doctor_report(name: str, message: str) -> None:
    run = _run(name, message)
    report = DoctorReport(
        since=NOW,
        generated_at=NOW,
        failed=2,
        by_cause={name: 1, "auth_refused": 1},
        diagnoses=[
            Diagnosis(
                key=name,
                credential_id=name,
                credential_name=name,
                credential_type=name,
                cause=Cause.AUTH_REFUSED,
                failures=[run],
                conclusion=message,
                evidence=[message],
                command=f"keyturn rotate {name}",
            )
        ],
        other_failures=[_run(name, message)],
        retried=[RetryOutcome(name, name, name)],
    )
    assert_shows(render(lambda c: render_report(report, c)), name, message)


def _rotation(name: str, message: str) -> Rotation:
    return Rotation(
        id="0123456789abcdef" + "0" * 16,
        instance=name,
        credential_id=name,
        credential_name=name,
        credential_type=name,
        field=name,
        strategy=name,
        status=name,
        step=name,
        pending_fingerprint=name,
        previous_fingerprint=name,
        error=message,
        created_at=NOW,
        updated_at=NOW,
    )


@PROPERTY
@given(name=names, message=names)
def test_rotation_outcome_status_and_rollback(name: str, message: str) -> None:
    rotation = _rotation(name, message)
    outcome = Outcome(rotation, [CheckResult(name, True, message), CheckResult(name, False, "")])
    assert_shows(render(lambda c: render_outcome(outcome, c)), name, message)
    assert_shows(render(lambda c: render_rotations([rotation], c, name)), name, message)
    assert_shows(render(lambda c: render_rolled_back(rotation, c)), name)
    assert_shows(render(lambda c: render_notes([message, name], " (dry run)", c)), name, message)


@PROPERTY
@given(name=names, message=names)
def test_rotation_plan(name: str, message: str) -> None:
    plan = RotationPlan(
        instance=name,
        credential_id=name,
        credential_name=name,
        credential_type=name,
        secret_field=name,
        source=message,
        provider=name,
        provider_capabilities=[name],
        strategy=name,
        grace_seconds=60,
        verify=[name],
        probe_url=message,
        probe_auth=name,
        webhooks=[name],
        watch_seconds=0,
        failed_executions=[],
        workflow_ids=[],
        usages=[message],
        rollback=message,
        revoke=message,
        warnings=[message],
        allow_unverified=False,
        extra_data={},
        restart_command=message,
        write_back=[message],
    )
    assert_shows(render(lambda c: render_plan(plan, c, name)), name, message)


@PROPERTY
@given(name=names, message=names)
def test_history_and_steps(name: str, message: str) -> None:
    event = AuditEvent(
        at=NOW,
        os_user=name,
        instance=name,
        credential_id=name,
        credential_name=name,
        rotation_id=name,
        step=name,
        outcome=name,
        detail=message,
    )
    assert_shows(render(lambda c: render_history([event], c)), name, message)
    assert_shows(render(lambda c: render_step(name, message, c)), name, message)


@PROPERTY
@given(name=names, message=names)
def test_due_and_rotate_due(name: str, message: str) -> None:
    entries = [
        DueCredential(name, name, name, NOW, True, timedelta(days=1), timedelta(days=2)),
        DueCredential(name, name, name, None, False, timedelta(days=1), None),
    ]
    assert_shows(render(lambda c: render_due(entries, c)), name)
    results = [{"credential_id": name, "status": message}]
    assert_shows(render(lambda c: render_rotate_due(results, c)), name, message)


@PROPERTY
@given(path=names, workflow=names, node=names, message=names)
def test_scan_table(path: str, workflow: str, node: str, message: str) -> None:
    location = Location(path=path, line=3, workflow=workflow, node=node)
    finding = Finding(NODE_PARAMETER, location, "value", message, message, "f" * 32)
    result = ScanResult(findings=[finding], skipped=[Skipped(path, message)], files_scanned=1)
    assert_shows(render(lambda c: render_table(result, c)), path, workflow, node, message)


@given(name=st.text(min_size=1, max_size=30))
@settings(max_examples=100, deadline=None)
def test_json_output_is_utf_8_json_whatever_the_output_encoding(name: str) -> None:
    """`inventory --json` with stdout in ASCII or latin-1 (PYTHONIOENCODING, a C locale): the
    document is UTF-8 JSON that reads back to the same names (escapes like `\\xe9` or
    `\\U0001f680` would not be JSON), and nothing ends in an encoding error."""
    import json
    import sys

    from pydantic import BaseModel

    from keyturn.formats.json_out import print_json

    class Named(BaseModel):
        name: str

    for encoding in ("ascii", "latin-1"):
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="backslashreplace")
        saved, sys.stdout = sys.stdout, stream
        try:
            print_json(Named(name=name))
        finally:
            sys.stdout = saved
        assert json.loads(raw.getvalue().decode("utf-8")) == {"name": name}
