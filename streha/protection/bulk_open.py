"""Opening many records' protected fields at once, for a system read of a whole register
(``streha dedup run`` reads every person's identity).

The one read path (``ProtectedFieldMixin.open``) builds a model instance per record, opens
each field through its descriptor, unwraps the record's data key and sets up the cipher for
every value: at a million persons that is most of a run's reading time. ``open_rows`` gives
exactly the same values and fails in exactly the same way (the same envelope checks, associated
data, crypto functions and exceptions, ``test_bulk_open``), but reads only the columns asked
for (``values_list``, no instances), unwraps each record's data key once (a local keyring's
per-master-key step once for the whole read: ``keys.envelope_unwrapper``) and sets up one
cipher per record (``crypto.opener``). Plaintext exists only in the returned values, in memory.

It decrypts only inside an audited system read (``read_context.system``: one audit event for
the whole read, which the caller writes); outside any audited read, or inside a request
(whose reads are audited record by record), it refuses as the one read path would refuse.
"""

from collections.abc import Iterator, Sequence

from django.db.models import ExpressionWrapper, F, QuerySet, TextField

from streha.audit import read_context
from streha.protection import crypto, keys
from streha.protection.fields import ProtectedFieldMixin, Sealed
from streha.protection.models import ProtectedModel, associated_data_of

CHUNK = 2000


def open_rows(
    queryset: QuerySet, names: Sequence[str], *, chunk_size: int = CHUNK
) -> Iterator[tuple]:
    """For each record of ``queryset`` (in its order), a tuple of the values of the fields
    ``names`` ("pk" allowed) as reading them on the instance would give: protected fields
    opened (``None`` for NULL, the field's empty value for a shredded record), others as
    loaded."""
    model = queryset.model
    if not issubclass(model, ProtectedModel):
        raise TypeError(f"{model._meta.label_lower} holds no protected fields.")
    label = model._meta.label_lower
    fields = [model._meta.pk if name == "pk" else model._meta.get_field(name) for name in names]
    # (position in the row, field) of the protected fields: only these are opened.
    opened = [
        (position, field)
        for position, field in enumerate(fields)
        if isinstance(field, ProtectedFieldMixin)
    ]
    # Sealed columns are read as the stored text (no ``Sealed`` wrapper per value).
    columns = [
        "pk",
        "data_key",
        *(
            ExpressionWrapper(F(field.attname), output_field=TextField())
            if isinstance(field, ProtectedFieldMixin)
            else field.attname
            for field in fields
        ),
    ]
    unwrap = keys.envelope_unwrapper()
    shredded = keys.SHREDDED_ENVELOPE
    rows = queryset.values_list(*columns).iterator(chunk_size=chunk_size)
    try:
        for pk, stored, *values in rows:
            _check_scope(label)  # each record: the caller may leave the audited read half-way
            envelope = keys.parse_envelope(stored or "")
            open_one = None
            for position, field in opened:
                value = values[position]
                if value is None:
                    continue
                token = value.token if isinstance(value, Sealed) else value
                if not token and envelope == shredded:
                    values[position] = field.empty_value()
                    continue
                if open_one is None and envelope is not None:
                    # As the one path: the data key first (a shredded or tampered envelope fails
                    # here), then the value's associated data.
                    open_one = crypto.opener(unwrap(envelope, f"{label}|{pk}"))
                associated = associated_data_of(label, field.name, pk, envelope, token)
                values[position] = field.deserialise(open_one(token, associated).decode())
            yield tuple(values)
    finally:
        # Closed as soon as this generator ends (a decryption error, the audited read left,
        # the caller closing it), never later by the garbage collector: on PostgreSQL the rows
        # come from a server-side cursor, and a finaliser closing it while another query runs
        # on the same connection waits for that connection forever (psycopg).
        rows.close()


def _check_scope(label: str) -> None:
    scope = read_context.current()
    if scope is None:
        raise read_context.UnauditedDecryption(
            f"{label}: bulk decryption outside any audited read or system context."
        )
    if scope.kind == read_context.REQUEST:
        raise read_context.UnauditedDecryption(
            f"{label}: bulk decryption is for audited system reads; a request reads records "
            "through the function that audits each of them."
        )
