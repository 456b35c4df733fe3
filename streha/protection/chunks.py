"""Large content sealed in fixed-size chunks and opened one chunk at a time (an uploaded file
read row by row, without its plaintext whole in memory, and never on disk).

The same mechanism as every protected field: AES-256-GCM under the record's data key, a fresh
random nonce per chunk, and associated data naming the model, the field, the record's id and
version, plus the chunk's index and whether it is the last one
(``streha/2|<model>|<field>|<id>|<version>|chunk <index>|<last 0/1>``). A chunk moved to another
record, field or position, chunks put in another order or dropped, and a stream cut after a
chunk that was not the last all fail with ``ProtectedDataIntegrityError``: garbage or a silently
shortened file is never returned. Opening checks the audited-read scope like any protected
field (``streha.audit.read_context``).
"""

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from streha.audit import read_context
from streha.protection import crypto
from streha.protection.fields import ProtectedFieldMisuse
from streha.protection.models import ProtectedModel

CHUNK_BYTES = 256 * 1024


def chunk_associated_data(record: ProtectedModel, field: str, index: int, last: bool) -> str:
    envelope = record.protection_envelope()
    if envelope is not None and envelope.shredded:
        raise ProtectedFieldMisuse(
            f"{record._meta.label_lower}.{field}: this record's data key was destroyed."
        )
    if record.pk is None or envelope is None or envelope.fmt != 2:
        raise ProtectedFieldMisuse(
            f"{record._meta.label_lower}.{field}: save the record before sealing its chunks."
        )
    base = crypto.associated_data(record._meta.label_lower, field, record.pk, envelope.version)
    return f"{base}|chunk {index}|{int(last)}"


def _pieces(content: bytes | BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """(piece, is the last) of at most ``size`` bytes; an empty content is one empty piece."""
    if isinstance(content, bytes | bytearray | memoryview):
        view = memoryview(content)
        starts = range(0, max(len(view), 1), size)
        for start in starts:
            yield bytes(view[start : start + size]), start + size >= len(view)
        return
    current = content.read(size)
    while True:
        following = content.read(size) if len(current) == size else b""
        yield current, not following
        if not following:
            return
        current = following


def seal_chunks(
    record: ProtectedModel, field: str, content: bytes | BinaryIO, chunk_bytes: int | None = None
) -> Iterator[str]:
    """The sealed chunks of ``content`` (bytes or a binary file), in order, for ``field`` of the
    saved ``record``. Store them in order and give them back in order to ``open_chunks``."""
    data_key = record.protection_data_key()
    for index, (piece, last) in enumerate(_pieces(content, chunk_bytes or CHUNK_BYTES)):
        yield crypto.seal(data_key, piece, chunk_associated_data(record, field, index, last))


def open_chunks(record: ProtectedModel, field: str, sealed: Iterable[str]) -> Iterator[bytes]:
    """The plaintext of each chunk in turn, checked as it is opened: position, record, field,
    record version, and that the last chunk came (a shortened stream raises at its end)."""
    read_context.check(record)  # refuses outside an audited read, as every protected field
    data_key = record.protection_data_key()
    tokens = iter(sealed)
    index = -1
    for index, token in enumerate(tokens):
        plain = None
        for last in (False, True):
            try:
                plain = crypto.open_sealed(
                    data_key, token, chunk_associated_data(record, field, index, last)
                )
            except crypto.ProtectedDataIntegrityError:
                continue
            break
        if plain is None:
            raise crypto.ProtectedDataIntegrityError(
                f"{record._meta.label_lower}.{field}: chunk {index} failed its integrity check "
                "(altered, moved, reordered, or from another record)."
            )
        yield plain
        if last:
            for _extra in tokens:
                raise crypto.ProtectedDataIntegrityError(
                    f"{record._meta.label_lower}.{field}: chunks follow the last one."
                )
            return
    raise crypto.ProtectedDataIntegrityError(
        f"{record._meta.label_lower}.{field}: the content ends at chunk {index} before its last "
        "chunk (truncated)."
    )


class ChunkReader(io.RawIOBase):
    """A read-only binary file over chunks of bytes (``open_chunks``), holding one chunk at a
    time; wrap it in ``io.BufferedReader`` for ``peek`` and ``io.TextIOWrapper`` for text."""

    def __init__(self, chunks: Iterable[bytes]):
        super().__init__()
        self._chunks = iter(chunks)
        self._current = memoryview(b"")
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while self._offset >= len(self._current):
            try:
                self._current = memoryview(next(self._chunks))
            except StopIteration:
                return 0
            self._offset = 0
        count = min(len(target), len(self._current) - self._offset)
        target[:count] = self._current[self._offset : self._offset + count]
        self._offset += count
        return count

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator over the database's rows stops there
        super().close()


def stream(chunks: Iterable[bytes], buffer_size: int = 64 * 1024) -> io.BufferedReader:
    """A buffered binary file over ``chunks`` (``peek`` for a first look at the content)."""
    return io.BufferedReader(ChunkReader(chunks), buffer_size=buffer_size)
