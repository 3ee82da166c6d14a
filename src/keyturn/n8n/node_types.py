"""What keyturn knows of n8n's node types: which triggers register webhooks.

Read from data/n8n_trigger_nodes.json, generated from the pinned n8n's own node lists by
scripts/gen_n8n_tables.py. Saving an active workflow makes n8n re-register its webhooks, so a
call in that moment answers 404; other triggers (schedules, polling, queues) lose nothing.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _table() -> tuple[frozenset[str], frozenset[str]]:
    raw = json.loads(resources.files("keyturn").joinpath("data/n8n_trigger_nodes.json").read_text())
    return frozenset(raw["webhook"]), frozenset(raw["other_triggers"])


def is_trigger(node_type: str) -> bool:
    """True for a node type that starts a workflow (any trigger, webhook or not)."""
    webhook, other = _table()
    return node_type in webhook or node_type in other or registers_webhook(node_type)


def registers_webhook(node_type: str) -> bool:
    """True for a node type that registers a webhook; an unknown trigger (a community node)
    counts as one, since keyturn cannot prove it does not."""
    webhook, other = _table()
    if node_type in webhook:
        return True
    if node_type in other:
        return False
    short = node_type.rsplit(".", 1)[-1].lower()
    return short.endswith("trigger") or "webhook" in short
