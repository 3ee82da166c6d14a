"""Dashboard data for the web tests: every state, and names an n8n editor may have chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keyturn.serve import view as v

NOW = datetime(2025, 3, 4, 3, 7, 0, tzinfo=UTC)

HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "invoice\u202egnp.exe",  # RTL override: would read "invoiceexe.png"
    "ops \U0001f469\u200d\U0001f4bb team",  # a zero-width-joiner emoji (woman technologist)
    "long-" + "x" * 495,  # 500 characters, no space to break at
]
PLAIN_NAMES = ["Stripe live", "Slack alerts", "GitHub deploy", "OpenAI", "Mailgun", "Legacy FTP"]
STATES = [v.NEEDS_ATTENTION, v.RETRYING, v.BLOCKED, v.ROTATING, v.DUE, v.OK, v.NO_POLICY]
HEALTHS = [v.FAILING, v.HEALTHY, v.UNKNOWN]


def row(index: int, name: str, state: str, health: str) -> v.CredentialRow:
    return v.CredentialRow(
        credential_id=f"cred{index:03d}",
        name=name,
        type="httpHeaderAuth" if index % 2 else "slackApi",
        age_seconds=(12 * 86400 + 4 * 3600 + 60 * index) if index % 5 else None,
        last_rotated=NOW - timedelta(days=12, hours=4) if index % 3 else None,
        policy="max_age 90d" if state != v.NO_POLICY else "",
        next_rotation=NOW + timedelta(days=3, hours=2) if state != v.NO_POLICY else None,
        health=health,
        health_detail="3 runs refused the key" if health == v.FAILING else "n8n test: success",
        health_checked_at=NOW - timedelta(minutes=5),
        state=state,
        detail="provider unreachable (ConnectError)" if state == v.RETRYING else "",
        next_attempt=NOW + timedelta(minutes=12) if state == v.RETRYING else None,
        last_rotation_status="rolled_back" if state == v.RETRYING else "completed",
    )


def dashboard_view(names: list[str] | None = None) -> v.DashboardView:
    """One credential per name, cycling through every state and health."""
    names = names if names is not None else PLAIN_NAMES + HOSTILE_NAMES
    rows = [
        row(i, name, STATES[i % len(STATES)], HEALTHS[i % len(HEALTHS)])
        for i, name in enumerate(names)
    ]
    return v.DashboardView(
        instance="n8n-prod <eu-1>",
        generated_at=NOW,
        leader=False,
        leader_holder="web-2:4412",
        last_evaluation=NOW - timedelta(seconds=40),
        credentials=rows,
        in_flight=[
            v.InFlight(
                "rot-1", "cred003", names[3], "set", NOW - timedelta(minutes=2), "web-2:4412"
            )
        ],
        timeline=[
            v.TimelineEvent(
                NOW - timedelta(days=2), "cred000", names[0], "finish", "completed", ""
            ),
            v.TimelineEvent(
                NOW - timedelta(hours=1), "cred001", names[1], "test", "failed", "401 from webhook"
            ),
            v.TimelineEvent(NOW - timedelta(days=1), "cred002", names[2], "set", "completed", ""),
        ],
        failures=[
            v.FailureGroup("auth_refused", "cred000", names[0], 3, NOW, "keyturn doctor cred000"),
            v.FailureGroup("rate_limited", "cred001", names[1], 7, NOW, None),
            v.FailureGroup("auth_refused", None, None, 1, None, None),
        ],
    )
