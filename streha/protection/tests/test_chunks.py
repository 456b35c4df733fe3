"""Content sealed in chunks (an uploaded file): read back chunk by chunk, and any chunk
altered, moved, reordered, dropped or cut off fails loudly instead of giving a shorter or
garbled file."""

import pytest

from streha.audit.read_context import UnauditedDecryption
from streha.protection import chunks
from streha.protection.crypto import ProtectedDataIntegrityError
from streha.protection.fields import ProtectedFieldMisuse
from streha.testing.factories import PersonFactory

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 3 + b"the end"  # 775 bytes: 12 chunks of 64 and 7 bytes


def _sealed(record, content=CONTENT, size=64) -> list[str]:
    return list(chunks.seal_chunks(record, "upload", content, chunk_bytes=size))


def _opened(record, tokens) -> bytes:
    return b"".join(chunks.open_chunks(record, "upload", tokens))


def test_chunks_read_back_in_order_from_bytes_or_a_file():
    import io

    record = PersonFactory()
    tokens = _sealed(record)
    assert len(tokens) == 13 and len({t for t in tokens}) == 13
    assert all(CONTENT[:16] not in t.encode() for t in tokens)
    assert _opened(record, tokens) == CONTENT
    from_file = list(chunks.seal_chunks(record, "upload", io.BytesIO(CONTENT), chunk_bytes=64))
    assert _opened(record, from_file) == CONTENT
    # A whole number of chunks: the last full one is the last (no empty chunk after it).
    exact = _sealed(record, CONTENT[:128])
    assert len(exact) == 2 and _opened(record, exact) == CONTENT[:128]
    exact_file = list(chunks.seal_chunks(record, "upload", io.BytesIO(CONTENT[:128]), 64))
    assert len(exact_file) == 2 and _opened(record, exact_file) == CONTENT[:128]
    empty = _sealed(record, b"")
    assert len(empty) == 1 and _opened(record, empty) == b""


def test_a_stream_over_the_chunks_reads_what_was_sealed():
    record = PersonFactory()
    stream = chunks.stream(chunks.open_chunks(record, "upload", _sealed(record)), 100)
    assert stream.peek(4)[:4] == CONTENT[:4]
    assert stream.read(10) == CONTENT[:10]
    assert stream.read() == CONTENT[10:]
    assert stream.read() == b""


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: [t[1], t[0], *t[2:]], id="reordered"),
        pytest.param(lambda t: [*t[:5], *t[6:]], id="one-dropped"),
        pytest.param(lambda t: t[:-1], id="truncated-before-the-last"),
        pytest.param(lambda t: t[:1], id="only-the-first"),
        pytest.param(lambda t: [], id="nothing"),
        pytest.param(lambda t: [*t, t[3]], id="chunk-after-the-last"),
        pytest.param(lambda t: [*t[:3], t[3][:-4] + "AAA=", *t[4:]], id="altered"),
        pytest.param(lambda t: [*t[:-2], t[-1]], id="last-moved-up"),
    ],
)
def test_tampered_reordered_or_truncated_chunks_fail_loudly(change):
    record = PersonFactory()
    tokens = change(_sealed(record))
    with pytest.raises(ProtectedDataIntegrityError):
        _opened(record, tokens)


def test_chunks_are_bound_to_their_record_and_field():
    record, other = PersonFactory(), PersonFactory()
    tokens = _sealed(record)
    with pytest.raises(ProtectedDataIntegrityError):
        _opened(other, tokens)
    with pytest.raises(ProtectedDataIntegrityError):
        b"".join(chunks.open_chunks(record, "other_field", tokens))


def test_only_a_saved_record_seals_chunks():
    from streha.people.models import Person

    with pytest.raises(ProtectedFieldMisuse):
        _sealed(Person(given_name="x"))


@pytest.mark.strict_reads
def test_opening_chunks_needs_an_audited_read():
    from streha.audit import read_context

    with read_context.testing_scope():
        record = PersonFactory()
        tokens = _sealed(record)
    with pytest.raises(UnauditedDecryption):
        _opened(record, tokens)
