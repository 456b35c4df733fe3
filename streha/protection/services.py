"""Key management: master-key rotation and re-wrapping of data keys.

Rotation never re-encrypts data: each record's data key is unwrapped with the old master key
and wrapped again with the new one. It runs in batches, each in its own short transaction, so
the system keeps serving; a process that has not noticed the new key file yet keeps writing
with the old key, which stays readable, and ``rewrap`` can simply be run again.
"""

import base64
import time
from collections import Counter
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from streha.protection import keys
from streha.protection.models import protected_models


def key_usage() -> dict[str, Counter]:
    """For each protected model, how many records use each master key."""
    usage = {}
    for model in protected_models():
        counter: Counter = Counter()
        for stored in (
            model.objects.exclude(data_key="")
            .values_list("data_key", flat=True)
            .iterator(chunk_size=5000)
        ):
            counter[keys.key_id_of(stored)] += 1
        usage[model._meta.label_lower] = counter
    return usage


def add_master_key() -> str:
    """Add a new master key to the key file and make it current. Returns its id."""
    if keys.keys_from_environment():
        raise ImproperlyConfigured(
            "Master keys come from STREHA_MASTER_KEYS: add the new key there (last is current), "
            "restart, then run `streha keys rewrap`."
        )
    path = keys.key_file_path()
    content = keys.read_key_file(path)
    key_id = time.strftime("k%Y%m%d%H%M%S")
    while key_id in content["keys"]:
        key_id += "x"
    content["keys"][key_id] = base64.b64encode(keys.new_key()).decode()
    content["current"] = key_id
    keys.write_key_file(path, content)
    keys.reset_keyring()
    return key_id


def rewrap_all(batch_size: int = 1000, progress: Callable[[str, int], None] | None = None) -> int:
    """Re-wrap every data key not yet under the current master key. Returns how many."""
    ring = keys.keyring()
    prefix = f"{ring.current_id}:"
    done = 0
    for model in protected_models():
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(data_key="")
                    .exclude(data_key__startswith=prefix)
                    .order_by("pk")
                    .only("pk", "data_key")[:batch_size]
                )
                if not rows:
                    break
                for row in rows:
                    row.data_key = ring.wrap(keys.unwrap(row.data_key))
                model.objects.bulk_update(rows, ["data_key"])
                last_pk = rows[-1].pk
                done += len(rows)
            if progress:
                progress(model._meta.label_lower, done)
    return done


def retire_master_key(key_id: str) -> None:
    """Remove an old master key from the key file, refusing while any record still uses it."""
    still = sum(counter.get(key_id, 0) for counter in key_usage().values())
    if still:
        raise ValueError(f"{still} records still use master key {key_id}; run rewrap first.")
    path = keys.key_file_path()
    content = keys.read_key_file(path)
    if key_id == content["current"]:
        raise ValueError("The current master key cannot be retired.")
    content["keys"].pop(key_id, None)
    keys.write_key_file(path, content)
    keys.reset_keyring()
