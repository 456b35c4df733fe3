import base64
import json

import pytest

from streha.protection import keys


def fixed_key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * keys.KEY_BYTES).decode()


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    """A private key file with fixed keys (deterministic indexes); rotation does not touch var/."""
    path = tmp_path / "keys.json"
    path.write_text(
        json.dumps(
            {
                "current": "k1",
                "keys": {"k1": fixed_key(1)},
                "index_key": fixed_key(9),
                "disabled": {},
                "legacy_v1": False,
            }
        )
    )
    monkeypatch.setenv("STREHA_MASTER_KEY_FILE", str(path))
    keys.reset_keyring()
    yield path
    monkeypatch.delenv("STREHA_MASTER_KEY_FILE")
    keys.reset_keyring()
