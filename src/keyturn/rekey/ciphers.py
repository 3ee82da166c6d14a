"""n8n's encryption formats, byte for byte (n8n-core's encryption/aes-256-cbc and aes-256-gcm).

- CBC: OpenSSL's salted format (`Salted__`, an 8-byte salt, AES-256-CBC with key and IV from
  MD5 over password + salt), base64. The password is the instance key's *latin-1* bytes (Node's
  `Buffer.from(key, 'binary')`). Every credential of 1.x, and every value 2.x writes without a
  key-id prefix.
- GCM wrap (2.x `deployment_key`): version byte 1, a 32-byte salt, a 16-byte tag, ciphertext;
  key and IV from HKDF-SHA256(sha256(instance key as UTF-8), salt, "n8n-encryption-v1").
- A value `<key id>:<ciphertext>` is encrypted with the data key of that `deployment_key` row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CBC_MARK = "U2FsdGVkX1"  # base64 of "Salted__": every CBC value starts with it
_SALTED = b"Salted__"
_GCM_VERSION = 1
_GCM_INFO = b"n8n-encryption-v1"
_KEY_ID = re.compile(r"^([A-Za-z0-9_-]{1,36}):(.*)$", re.DOTALL)
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


class Undecryptable(ValueError):
    """The value cannot be decrypted with this key (wrong key, or a corrupt value)."""


def key_bytes(instance_key: str) -> bytes:
    """The CBC password: each UTF-16 code unit cut to its low byte, as Node's 'binary'."""
    return instance_key.encode("utf-16-le", "surrogatepass")[0::2]


def _key_and_iv(password: bytes, salt: bytes) -> tuple[bytes, bytes]:
    hash1 = hashlib.md5(password + salt).digest()  # noqa: S324 - n8n's format (EVP_BytesToKey)
    hash2 = hashlib.md5(hash1 + password + salt).digest()  # noqa: S324
    iv = hashlib.md5(hash2 + password + salt).digest()  # noqa: S324
    return hash1 + hash2, iv


def cbc_encrypt(plaintext: str, instance_key: str) -> str:
    salt = os.urandom(8)
    key, iv = _key_and_iv(key_bytes(instance_key), salt)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    body = encryptor.update(padded) + encryptor.finalize()
    return base64.b64encode(_SALTED + salt + body).decode()


def cbc_decrypt(value: str, instance_key: str) -> str:
    """The plaintext; raises Undecryptable on a wrong key or a value that is not CBC. Stricter
    than n8n (which returns garbage for 1 wrong key in 256): the text must also be UTF-8."""
    raw = _b64(value)
    if len(raw) < 32 or (len(raw) - 16) % 16 or raw[:8] != _SALTED:
        raise Undecryptable("not n8n's CBC format")
    key, iv = _key_and_iv(key_bytes(instance_key), raw[8:16])
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(raw[16:]) + decryptor.finalize()
    try:
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
    except (ValueError, UnicodeDecodeError):
        raise Undecryptable("wrong key, or a corrupt value") from None


def wrapping_key(instance_key: str) -> bytes:
    """The key n8n wraps `deployment_key` values with: sha256 of the instance key's UTF-8."""
    return hashlib.sha256(instance_key.encode("utf-8", "surrogatepass")).digest()


def _gcm_key_iv(key: bytes, salt: bytes) -> tuple[bytes, bytes]:
    derived = HKDF(algorithm=hashes.SHA256(), length=44, salt=salt, info=_GCM_INFO).derive(key)
    return derived[:32], derived[32:]


def gcm_encrypt(plaintext: str, key: bytes) -> str:
    salt = os.urandom(32)
    derived, iv = _gcm_key_iv(key, salt)
    sealed = AESGCM(derived).encrypt(iv, plaintext.encode(), None)
    body, tag = sealed[:-16], sealed[-16:]
    return base64.b64encode(bytes([_GCM_VERSION]) + salt + tag + body).decode()


def gcm_decrypt(value: str, key: bytes) -> str:
    raw = _b64(value)
    if len(raw) < 49 or raw[0] != _GCM_VERSION:
        raise Undecryptable("not n8n's GCM format")
    salt, tag, body = raw[1:33], raw[33:49], raw[49:]
    derived, iv = _gcm_key_iv(key, salt)
    try:
        return AESGCM(derived).decrypt(iv, body + tag, None).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise Undecryptable("wrong key, or a corrupt value") from None


def wrap(plaintext: str, instance_key: str) -> str:
    return gcm_encrypt(plaintext, wrapping_key(instance_key))


def unwrap(value: str, instance_key: str) -> str:
    return gcm_decrypt(value, wrapping_key(instance_key))


def data_key(hex_key: str) -> bytes:
    """A GCM data key as n8n keeps it: 64 hex characters."""
    if not _HEX_KEY.match(hex_key):
        raise Undecryptable("a data key that is not 64 hex characters")
    return bytes.fromhex(hex_key)


@dataclass(frozen=True)
class Stored:
    """A stored ciphertext: its key-id prefix (2.x, may be empty) and the ciphertext itself."""

    key_id: str
    ciphertext: str

    @classmethod
    def parse(cls, value: str) -> Stored:
        match = _KEY_ID.match(value)
        return cls(match.group(1), match.group(2)) if match else cls("", value)

    def text(self, ciphertext: str) -> str:
        """The stored form of `ciphertext` with this value's prefix."""
        return f"{self.key_id}:{ciphertext}" if self.key_id else ciphertext


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Undecryptable("not base64") from None


def is_hex_key(value: str) -> bool:
    return bool(_HEX_KEY.match(value))
