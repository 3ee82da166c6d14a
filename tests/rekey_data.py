"""An n8n database with a value in every place n8n encrypts (SQLite, n8n's column names), for
the rekey tests that need no running n8n. What real instances hold, not what keyturn expects:
prefixed values (2.x with key rotation on), the legacy forms n8n repairs itself at start,
unicode and `+/=&%` in credentials, MFA on and half-enrolled, flatted execution data, a SAML
key stored as plain PEM, LDAP's empty default password."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from keyturn.rekey import ciphers

OLD_KEY = "old-key+/=&%-é-0123456789abcdef"  # latin-1 for CBC, UTF-8 for GCM: both matter
NEW_KEY = "NewKey-4f1b0a9c8d7e6f5a4b3c2d1e0f9a8b7c"
DATA_KEY = "ab" * 32
OLD_DATA_KEY = "cd" * 32
LEGACY_ID = "legacyCbcRow0001"
GCM_ID = "gcmActiveRow0001"
SECRET = "sk-live+/=&%Ünïcødé😀"

SCHEMA = """
CREATE TABLE "{p}credentials_entity" (id varchar PRIMARY KEY, name varchar, data text,
  type varchar);
CREATE TABLE "{p}user" (id varchar PRIMARY KEY, email varchar, "mfaEnabled" boolean,
  "mfaSecret" text, "mfaRecoveryCodes" text);
CREATE TABLE "{p}settings" (key varchar PRIMARY KEY, value text, "loadOnStartup" boolean);
CREATE TABLE "{p}secrets_provider_connection" (id integer PRIMARY KEY, "providerKey" varchar,
  "encryptedSettings" text);
CREATE TABLE "{p}execution_entity" (id integer PRIMARY KEY, status varchar,
  "createdAt" datetime, "startedAt" datetime, "stoppedAt" datetime);
CREATE TABLE "{p}execution_data" ("executionId" integer PRIMARY KEY, data text,
  "workflowData" text);
"""


@dataclass
class Planted:
    """Each planted value's plaintext, by (table, row id, column, path)."""

    path: Path
    prefix: str
    values: dict[tuple[str, str, str, str], str] = field(default_factory=dict)


def plant(path: Path, *, version: str = "2.x", prefix: str = "", key: str = OLD_KEY) -> Planted:
    planted = Planted(path, prefix)
    db = sqlite3.connect(path)
    db.executescript(SCHEMA.format(p=prefix))
    table = lambda name: f'"{prefix}{name}"'  # noqa: E731
    cbc = lambda text: ciphers.cbc_encrypt(text, key)  # noqa: E731

    def credential(row_id: str, data: dict[str, object], stored: str | None = None) -> None:
        text = json.dumps(data, ensure_ascii=False)
        db.execute(f"INSERT INTO {table('credentials_entity')} VALUES (?,?,?,?)",
                   (row_id, f"<b>{row_id}</b>", stored or cbc(text), "httpHeaderAuth"))  # fmt: skip
        planted.values[("credentials_entity", row_id, "data", "")] = text

    credential("c1", {"name": "X-API-Key", "value": SECRET})
    credential("c2", {"user": "ünï", "password": "p&ss=w/rd+%", "oauthTokenData": {"a": [1]}})
    if version == "2.x":
        text = json.dumps({"value": "legacy-prefixed"})
        credential("c3", {"value": "legacy-prefixed"}, f"{LEGACY_ID}:{cbc(text)}")
        text = json.dumps({"value": "under-a-data-key"})
        stored = f"{GCM_ID}:{ciphers.gcm_encrypt(text, bytes.fromhex(DATA_KEY))}"
        credential("c4", {"value": "under-a-data-key"}, stored)

    totp, codes = "JBSWY3DPEHPK3PXP", [f"code-{n}-0000-0000" for n in range(10)]
    db.execute(
        f"INSERT INTO {table('user')} VALUES (?,?,?,?,?)",
        ("u1", "mfa@x.test", True, cbc(totp), ",".join(cbc(code) for code in codes)),
    )
    db.execute(
        f"INSERT INTO {table('user')} VALUES (?,?,?,?,?)",
        ("u2", "half@x.test", False, cbc("KRSXG5CTMVRXEZLU"), None),
    )
    db.execute(f"INSERT INTO {table('user')} VALUES (?,?,?,?,?)",
               ("u3", "plain@x.test", False, None, ""))  # fmt: skip
    planted.values[("user", "u1", "mfaSecret", "")] = totp
    planted.values[("user", "u2", "mfaSecret", "")] = "KRSXG5CTMVRXEZLU"
    for index, code in enumerate(codes):
        planted.values[("user", "u1", "mfaRecoveryCodes", f"[{index}]")] = code

    def setting(name: str, value: str) -> None:
        db.execute(f"INSERT INTO {table('settings')} VALUES (?,?,?)", (name, value, True))

    ldap = {"loginEnabled": False, "bindingAdminPassword": "", "connectionUrl": ""}
    setting("features.ldap", json.dumps(ldap))
    ssh = "\n".join(
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAA",
            "-----END OPENSSH PRIVATE KEY-----",
            "",
        )
    )
    setting(
        "features.sourceControl.sshKeys",
        json.dumps({"encryptedPrivateKey": cbc(ssh), "publicKey": "ssh-ed25519 AAAA x"}),
    )
    planted.values[
        ("settings", "features.sourceControl.sshKeys", "value", "encryptedPrivateKey")
    ] = ssh
    https = {"encryptedUsername": cbc("git-user"), "encryptedPassword": cbc("ghp_t0ken/+=")}
    setting("features.sourceControl.httpsCredentials", json.dumps(https).replace("/", "\\/"))
    planted.values[
        ("settings", "features.sourceControl.httpsCredentials", "value", "encryptedUsername")
    ] = "git-user"
    planted.values[
        ("settings", "features.sourceControl.httpsCredentials", "value", "encryptedPassword")
    ] = "ghp_t0ken/+="
    external = json.dumps({"vault": {"connected": True, "settings": {"token": "hvs.x"}}})
    setting("feature.externalSecrets", cbc(external))
    planted.values[("settings", "feature.externalSecrets", "value", "")] = external
    setting("features.oidc", json.dumps({"clientId": "n8n", "clientSecret": cbc("oidc-s3cret")}))
    planted.values[("settings", "features.oidc", "value", "clientSecret")] = "oidc-s3cret"
    pem = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
    setting("features.saml", json.dumps({"signingPrivateKey": pem}))  # n8n keeps a non-key as is
    setting("userManagement.isInstanceOwnerSetUp", "true")

    provider = json.dumps({"url": "https://vault.example", "token": "hvs.CAES+/="})
    db.execute(f"INSERT INTO {table('secrets_provider_connection')} VALUES (?,?,?)",
               (1, "vault", cbc(provider)))  # fmt: skip
    planted.values[("secrets_provider_connection", "1", "encryptedSettings", "")] = provider

    context = json.dumps({"version": 1, "identity": "cookie"})
    flatted = [{"executionData": "1", "resultData": "2"}, {"runtimeData": "3"},
               {"runData": "4"}, {"credentials": "5"}, {}, cbc(context)]  # fmt: skip
    db.execute(f"INSERT INTO {table('execution_data')} VALUES (?,?,?)",
               (1, json.dumps(flatted, separators=(",", ":")), "{}"))  # fmt: skip
    planted.values[("execution_data", "1", "data", "credentials")] = context
    decoy = [{"resultData": "1"}, {"note": "2"}, "mentions runtimeData in user data"]
    db.execute(f"INSERT INTO {table('execution_data')} VALUES (?,?,?)",
               (2, json.dumps(decoy), "{}"))  # fmt: skip

    if version == "2.x":
        db.execute(
            f"CREATE TABLE {table('deployment_key')} (id varchar(36) PRIMARY KEY, "
            "type varchar(64), value text, algorithm varchar(20), status varchar(20))"
        )
        _deployment_keys(db, table, key, planted)
    db.commit()
    db.close()
    return planted


def _deployment_keys(db: sqlite3.Connection, table, key: str, planted: Planted) -> None:  # type: ignore[no-untyped-def]
    rows = [
        ("inst0000000000001", "instance.id", "instance-id-plain", None, "active"),
        (LEGACY_ID, "data_encryption", ciphers.wrap(key, key), "aes-256-cbc", "inactive"),
        (GCM_ID, "data_encryption", ciphers.wrap(DATA_KEY, key), "aes-256-gcm", "active"),
        ("gcmOldRow00000001", "data_encryption", ciphers.cbc_encrypt(OLD_DATA_KEY, key),
         "aes-256-gcm", "inactive"),  # a CBC-wrapped data key: a form n8n repairs at start
        ("jwt00000000000001", "signing.jwt", ciphers.wrap("jwt-secret-0123", key),
         "aes-256-gcm", "active"),
        ("hmac0000000000001", "signing.hmac", "hmac-secret-plain", None, "active"),
        ("jwe00000000000001", "jwe.private-key",
         ciphers.cbc_encrypt(json.dumps({"kty": "RSA", "d": "x", "kid": "jwe00000000000001"}), key),
         "RSA-OAEP-256", "active"),
    ]  # fmt: skip
    db.executemany(f"INSERT INTO {table('deployment_key')} VALUES (?,?,?,?,?)", rows)
    planted.values[("deployment_key", GCM_ID, "value", "")] = DATA_KEY
    planted.values[("deployment_key", "gcmOldRow00000001", "value", "")] = OLD_DATA_KEY
    planted.values[("deployment_key", "jwt00000000000001", "value", "")] = "jwt-secret-0123"


def read_back(planted: Planted, key: str) -> dict[tuple[str, str, str, str], str]:
    """Each planted value decrypted with `key` as n8n would (ValueError text when it fails)."""
    db = sqlite3.connect(planted.path)
    p = planted.prefix
    found: dict[tuple[str, str, str, str], str] = {}
    legacy = _legacy_key(db, p, key)
    for place in planted.values:
        table, row_id, column, path = place
        pk = {"settings": "key", "execution_data": '"executionId"'}.get(table, "id")
        (text,) = db.execute(
            f'SELECT "{column}" FROM "{p}{table}" WHERE {pk} = ?', (row_id,)
        ).fetchone()
        found[place] = _read(table, text, path, key, legacy)
    db.close()
    return found


def _legacy_key(db: sqlite3.Connection, p: str, key: str) -> str:
    try:
        row = db.execute(
            f'SELECT value FROM "{p}deployment_key" WHERE id = ?', (LEGACY_ID,)
        ).fetchone()
    except sqlite3.OperationalError:
        return key
    try:
        return ciphers.unwrap(row[0], key) if row else key
    except ciphers.Undecryptable:
        return key  # wrapped with another key: the values will not read either


def _read(table: str, text: str, path: str, key: str, legacy: str) -> str:
    try:
        if table == "deployment_key":
            try:
                return ciphers.unwrap(text, key)
            except ciphers.Undecryptable:
                return ciphers.cbc_decrypt(text, key)  # the CBC-wrapped legacy form
        if path.startswith("["):
            text = text.split(",")[int(path[1:-1])]
        elif path == "credentials":
            items = json.loads(text)
            node = items[0]
            for name in ("executionData", "runtimeData", "credentials"):
                node = items[int(node[name])]
            text = node
        elif path:
            text = json.loads(text)[path]
        stored = ciphers.Stored.parse(text)
        if stored.key_id == GCM_ID:
            return ciphers.gcm_decrypt(stored.ciphertext, bytes.fromhex(DATA_KEY))
        return ciphers.cbc_decrypt(stored.ciphertext, legacy)
    except ciphers.Undecryptable as exc:
        return f"unreadable: {exc}"
