"""Read every encrypted value of n8n's database with a key, and work out its re-encryption.

`survey(connection, db, ring, new_key)` walks every place (places.py) and the `deployment_key`
rows; with `new_key` it also computes each row's new text. The same walk, without a new key,
is the verification after the writes: every value must read with the new key to the same
plaintext (compared by SHA-256, so plaintexts are not kept).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keyturn.core.redact import register_secret
from keyturn.rekey import ciphers
from keyturn.rekey.ciphers import Stored, Undecryptable
from keyturn.rekey.database import N8nDatabase, RowKey, row_key
from keyturn.rekey.places import DEPLOYMENT_KEY, EXECUTION_PATHS, PLACES, Content, Place, Shape

_TOTP = re.compile(r"^[A-Z2-7]+=*$")
LEGACY_KEY = "instance key"  # what the legacy data key row must unwrap to


@dataclass(frozen=True)
class Unreadable:
    place: str
    row: str
    reason: str

    def describe(self) -> str:
        return f"{self.place} ({self.row}): {self.reason}"


@dataclass(frozen=True)
class RowChange:
    """One column of one row to rewrite: each stored value in it (old -> new). The column's
    whole text is not kept: execution data can be large; the write reads it again."""

    table: str  # n8n's name, without prefix
    key: RowKey
    column: str
    shape: Shape
    replacements: dict[str, str]

    def apply(self, text: str) -> str:
        return _replaced(self.shape, text, self.replacements)


@dataclass
class Ring:
    """The keys that read n8n's values: the instance key, the key of values without a prefix
    (the legacy data key row's, on 2.x), and the data keys of prefixed values."""

    instance_key: str
    unprefixed_key: str
    cbc_ids: set[str] = field(default_factory=set)
    data_keys: dict[str, bytes] = field(default_factory=dict)

    def decrypt(self, stored: Stored) -> str:
        if not stored.key_id:
            return ciphers.cbc_decrypt(stored.ciphertext, self.unprefixed_key)
        if stored.key_id in self.cbc_ids:
            return ciphers.cbc_decrypt(stored.ciphertext, self.unprefixed_key)
        if stored.key_id in self.data_keys:
            return ciphers.gcm_decrypt(stored.ciphertext, self.data_keys[stored.key_id])
        raise Undecryptable(f"its data key {stored.key_id!r} is not in deployment_key")


@dataclass
class Survey:
    version: str = "1.x"
    reencrypted: Counter[str] = field(default_factory=Counter)
    verified_only: Counter[str] = field(default_factory=Counter)  # under a data key: unchanged
    left_plain: Counter[str] = field(default_factory=Counter)
    unreadable: list[Unreadable] = field(default_factory=list)
    changes: list[RowChange] = field(default_factory=list)
    digests: dict[tuple[str, str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    signing_secrets: set[str] = field(default_factory=set)  # types kept in deployment_key
    ring: Ring | None = None

    @property
    def keyed(self) -> int:
        """Values read through this instance key: none of them reads with a wrong key (those
        under a data key kept in plaintext read with any)."""
        return sum(self.reencrypted.values())


def survey(
    connection: Connection, db: N8nDatabase, instance_key: str, new_key: str | None = None
) -> Survey:
    result = Survey()
    result.ring = _deployment_keys(connection, db, instance_key, new_key, result)
    for place in PLACES:
        _survey_place(connection, db, place, result.ring, new_key, result)
    return result


# -- deployment_key (2.x) -------------------------------------------------------------------


def _deployment_keys(
    connection: Connection, db: N8nDatabase, key: str, new_key: str | None, result: Survey
) -> Ring:
    ring = Ring(instance_key=key, unprefixed_key=key)
    table = db.table(connection, DEPLOYMENT_KEY)
    if table is None:
        return ring
    result.version = "2.x"
    for row in connection.execute(sa.select(table)):
        values = row._mapping
        where = f"id={values['id']}, type={values['type']}"
        try:
            new_value = _deployment_key_row(values, key, new_key, ring, result)
        except Undecryptable as exc:
            result.unreadable.append(Unreadable(DEPLOYMENT_KEY, where, str(exc)))
            continue
        if new_value is not None and new_value != values["value"]:
            change = {values["value"]: new_value}
            where_row = row_key(table, row)
            result.changes.append(
                RowChange(DEPLOYMENT_KEY, where_row, "value", Shape.WHOLE, change)
            )
    return ring


def _deployment_key_row(
    row: Any, key: str, new_key: str | None, ring: Ring, result: Survey
) -> str | None:
    kind, value, algorithm, row_id = row["type"], row["value"] or "", row["algorithm"], row["id"]
    if kind == "instance.id" or not value:
        return None
    if kind.startswith("jwe."):  # a private JWK, CBC under the instance key itself
        plaintext = ciphers.cbc_decrypt(value, key)
        json.loads(plaintext)
        _record(result, (DEPLOYMENT_KEY, row_id, ""), plaintext, "deployment_key jwe")
        return ciphers.cbc_encrypt(plaintext, new_key) if new_key else None
    if kind.startswith("signing.") and algorithm is None:  # plaintext: n8n wraps it at start
        register_secret(value)
        result.left_plain["deployment_key " + kind] += 1
        result.signing_secrets.add(kind)
        return None
    if kind == "data_encryption" and algorithm != "aes-256-cbc" and ciphers.is_hex_key(value):
        register_secret(value)  # a data key in plaintext: n8n wraps it at start, with its key
        ring.data_keys[row_id] = ciphers.data_key(value)
        result.left_plain["deployment_key data key in plaintext"] += 1
        return None
    plaintext = _unwrap_any(value, key)
    register_secret(plaintext)
    label = f"deployment_key {kind}"
    if kind == "data_encryption" and algorithm == "aes-256-cbc":
        if plaintext != key:
            result.notes.append(
                f"deployment_key row {row_id} (the legacy data key) held another key than the "
                "instance key; values without a prefix are read with it"
            )
        ring.unprefixed_key = plaintext
        ring.cbc_ids.add(row_id)
        _record(result, (DEPLOYMENT_KEY, row_id, ""), LEGACY_KEY, label)
        return ciphers.wrap(new_key, new_key) if new_key else None
    if kind == "data_encryption":
        ring.data_keys[row_id] = ciphers.data_key(plaintext)
    else:
        result.signing_secrets.add(kind)
    _record(result, (DEPLOYMENT_KEY, row_id, ""), plaintext, label)
    return ciphers.wrap(plaintext, new_key) if new_key else None


def _unwrap_any(value: str, key: str) -> str:
    """A deployment_key value in any form n8n reads: wrapped, or the legacy ones n8n itself
    repairs at start (the instance key in plaintext, a CBC-wrapped data key). A data key in
    plaintext reads with any key: it is handled apart, and never counts as read."""
    try:
        return ciphers.unwrap(value, key)
    except Undecryptable:
        if value == key:
            return value
        if value.startswith(ciphers.CBC_MARK):
            return ciphers.cbc_decrypt(value, key)
        raise


# -- the other places -----------------------------------------------------------------------


def _survey_place(
    connection: Connection,
    db: N8nDatabase,
    place: Place,
    ring: Ring,
    new_key: str | None,
    result: Survey,
) -> None:
    table = db.table(connection, place.table)
    if table is None or place.column not in table.c:
        return
    column = table.c[place.column]
    query = sa.select(*table.primary_key.columns, column).where(column.is_not(None))
    if place.setting:
        query = query.where(table.c["key"] == place.setting)
    if place.shape is Shape.EXECUTION:  # large: streamed, one row's text at a time
        query = query.where(column.like("%runtimeData%")).execution_options(yield_per=100)
    for row in connection.execute(query):
        key = row_key(table, row)
        text = row._mapping[place.column]
        replacements = _survey_text(place, key, text, ring, new_key, result)
        if new_key and replacements:
            change = RowChange(place.table, key, place.column, place.shape, replacements)
            result.changes.append(change)


def _survey_text(
    place: Place, key: RowKey, text: str, ring: Ring, new_key: str | None, result: Survey
) -> dict[str, str]:
    """Each stored value of the column and its re-encryption (empty without a new key)."""
    where = ", ".join(f"{name}={value}" for name, value in key)
    try:
        values = list(_values_in(place, text))
    except ValueError as exc:
        result.unreadable.append(Unreadable(place.name, where, str(exc)))
        return {}
    replacements: dict[str, str] = {}
    for path, stored_text in values:
        try:
            new_value = _survey_value(place, (where, path), stored_text, ring, new_key, result)
        except Undecryptable as exc:
            result.unreadable.append(Unreadable(place.name, f"{where}{path}", str(exc)))
            continue
        if new_value is not None:
            replacements[stored_text] = new_value
    return replacements


def _survey_value(
    place: Place,
    where: tuple[str, str],
    stored_text: str,
    ring: Ring,
    new_key: str | None,
    result: Survey,
) -> str | None:
    stored = Stored.parse(stored_text)
    if not stored.key_id and not stored.ciphertext.startswith(ciphers.CBC_MARK):
        if place.plain_allowed:
            result.left_plain[place.name] += 1
            return None
        raise Undecryptable("not encrypted data in a place n8n keeps encrypted")
    plaintext = ring.decrypt(stored)
    _check_content(place.content, plaintext)
    _record(result, (place.name, *where), plaintext, None)
    if stored.key_id and stored.key_id not in ring.cbc_ids:
        result.verified_only[place.name] += 1  # under its own data key: nothing to change
        return None
    result.reencrypted[place.name] += 1
    return stored.text(ciphers.cbc_encrypt(plaintext, new_key)) if new_key else None


def _record(result: Survey, where: tuple[str, str, str], plaintext: str, label: str | None) -> None:
    result.digests[where] = hashlib.sha256(plaintext.encode()).hexdigest()
    if label is not None:
        result.reencrypted[label] += 1


def _check_content(content: Content, plaintext: str) -> None:
    if content is Content.JSON:
        try:
            json.loads(plaintext)
        except ValueError:
            raise Undecryptable("decrypts to something that is not JSON: wrong key?") from None
    elif content is Content.TOTP and not _TOTP.match(plaintext):
        raise Undecryptable("decrypts to something that is not a TOTP secret: wrong key?")


# -- where the values are in a column's text --------------------------------------------------


def _values_in(place: Place, text: str) -> Iterator[tuple[str, str]]:
    """(path, stored value) for each value in the column's text; ValueError when the text is
    not what n8n writes there."""
    if not text:
        return
    if place.shape is Shape.WHOLE:
        yield "", text
    elif place.shape is Shape.LIST:
        for index, item in enumerate(text.split(",")):
            if item:
                yield f" [{index}]", item
    elif place.shape is Shape.FIELDS:
        document = _json(text, dict)
        for name in place.fields:
            value = document.get(name)
            if isinstance(value, str) and value:
                yield f" .{name}", value
    else:
        yield from _execution_values(text)


def _execution_values(text: str) -> Iterator[tuple[str, str]]:
    """runtimeData's encrypted strings in flatted execution data (an array whose first item is
    the root object; a string value is the index of the item it stands for)."""
    items = _json(text, list)
    for path in EXECUTION_PATHS:
        node: Any = items[0] if items else None
        for name in path:
            if not isinstance(node, dict) or not isinstance(node.get(name), str):
                node = None
                break
            reference = node[name]
            known = reference.isdigit() and int(reference) < len(items)
            node = items[int(reference)] if known else None
        if isinstance(node, str) and node:
            yield f" .{'.'.join(path)}", node


def _json(text: str, kind: type) -> Any:
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError("not the JSON n8n writes there") from None
    if not isinstance(document, kind):
        raise ValueError("not the JSON n8n writes there")
    return document


def _replaced(shape: Shape, text: str, replacements: dict[str, str]) -> str:
    """The column's text with each stored value replaced, every other byte kept. A value no
    longer there (the row changed since it was read) is a bug: raise, the transaction rolls
    back."""
    if shape is Shape.WHOLE:
        return replacements[text]
    if shape is Shape.LIST:
        items = text.split(",")
        if not set(replacements) <= set(items):
            raise KeyError("a value to re-encrypt is not in the row any more")
        return ",".join(replacements.get(item, item) for item in items)
    for old, new in replacements.items():
        quoted = json.dumps(old)
        if text.count(quoted) != 1:
            return _reserialized(text, replacements)
        text = text.replace(quoted, json.dumps(new))
    return text


def _reserialized(text: str, replacements: dict[str, str]) -> str:
    document = json.loads(text)
    replace: Callable[[Any], Any] = lambda value: replacements.get(value, value)  # noqa: E731
    if isinstance(document, dict):
        document = {name: replace(value) for name, value in document.items()}
    else:
        document = [replace(item) for item in document]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
