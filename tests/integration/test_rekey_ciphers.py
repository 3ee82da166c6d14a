"""keyturn's n8n ciphers against n8n's own code: the installed n8n's compiled n8n-core (and its
JwtService for the derived JWT secret) run by its Node, both ways, on awkward keys."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from keyturn.rekey import ciphers
from keyturn.rekey.keys import derived_jwt_secret
from keyturn.sandbox.install import N8N_VERSION, ensure_n8n, node_bin_dir

pytestmark = pytest.mark.n8n  # needs the installed n8n (no server)
SCRIPT = Path(__file__).parent.parent / "data" / "n8n_ciphers.js"
KEYS = ["d37cb5cc43ecf75cfd3d4c4ac7d2fce488feaccb1d28ac34", "kéy+/=&%€ x", "emoji😀key-1234",
        "ÿ" * 30]  # fmt: skip
TEXT = '{"value":"sk-+/=&%Ünï😀","n":[1,2]}'


@pytest.mark.parametrize("version", [N8N_VERSION, "1.123.81"])
def test_keyturn_and_n8n_read_each_others_values(version: str) -> None:
    folder = ensure_n8n(version)
    gcm = version.startswith("2.")
    cases = [{"key": key, "text": TEXT, "cbc": ciphers.cbc_encrypt(TEXT, key),
              "gcm": ciphers.wrap(TEXT, key)} for key in KEYS]  # fmt: skip
    result = subprocess.run(
        [str(node_bin_dir(folder) / "node"), str(SCRIPT), str(folder / "node_modules")],
        input=json.dumps(cases), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for key, answer in zip(KEYS, json.loads(result.stdout), strict=True):
        assert answer["cbc_plain"] == TEXT  # n8n reads keyturn's
        assert ciphers.cbc_decrypt(answer["cbc"], key) == TEXT  # keyturn reads n8n's
        assert derived_jwt_secret(key) == answer["jwt"]
        if gcm:
            assert answer["gcm_plain"] == TEXT
            assert ciphers.unwrap(answer["gcm"], key) == TEXT
