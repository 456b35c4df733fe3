"""Reading CSV and XLSX files defensively: every problem becomes a row-level or file-level
error with a reason, never an exception that stops the import half-way or a crash.

Refused: cells longer than ``MAX_CELL``, NUL bytes, formulas, text that is not UTF-8, and XLSX
files that expand beyond ``MAX_XLSX_EXPANDED`` (zip bombs). openpyxl parses XML through
defusedxml when it is installed (it is: requirements.lock), so entity expansion is refused too.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils.translation import gettext as _

MAX_CELL = 4000  # characters
MAX_XLSX_EXPANDED = 200 * 1024 * 1024
MAX_XLSX_RATIO = 200
FORMULA_START = ("=", "@")
# Bytes that were not UTF-8, as the decoder's "surrogateescape" keeps them.
_UNDECODED = re.compile("[\udc80-\udcff]")


class FileRefused(Exception):
    """The whole file cannot be read; the message says why (no content quoted)."""


@dataclass
class Row:
    line: int
    cells: list[str]
    problems: list[tuple[int, str]] = field(default_factory=list)  # (column index, reason)


def _check_text(value: str) -> str | None:
    if len(value) > MAX_CELL:
        return _("The cell is too long (more than %(limit)d characters).") % {"limit": MAX_CELL}
    if "\x00" in value:
        return _("The cell contains a NUL character.")
    if not value.isascii() and _UNDECODED.search(value):
        return _("The text is not in UTF-8; save the file as UTF-8 and try again.")
    if value.startswith(FORMULA_START):
        return _("Formulas are not accepted; enter the value itself.")
    return None


def _checked(line: int, raw: list) -> Row:
    row = Row(line=line, cells=[])
    for index, value in enumerate(raw):
        if value is None:
            text = ""
        elif isinstance(value, datetime):
            text = value.date().isoformat()
        elif isinstance(value, date):
            text = value.isoformat()
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = str(value)
        problem = _check_text(text)
        if problem:
            row.problems.append((index, problem))
            text = ""
        row.cells.append(text.strip())
    return row


# What the readers take: the file's bytes (a request's upload, bounded), or a binary stream
# (the stored upload opened chunk by chunk, ``streha.protection.chunks.stream``).
Source = bytes | io.BufferedIOBase


def _buffered(content: Source) -> io.BufferedIOBase:
    if isinstance(content, bytes | bytearray):
        return io.BufferedReader(io.BytesIO(content))
    return content


def _csv_reader(stream: io.BufferedIOBase, size: int):
    """A CSV reader decoding ``stream`` as it reads it (no decoded copy of the file), with the
    dialect sniffed from its first bytes; cells up to ``size`` are read (then refused by
    ``MAX_CELL`` with a reason, not as broken CSV)."""
    csv.field_size_limit(max(size, 131072))
    sample = stream.peek(4096)[:4096].decode("utf-8-sig", errors="surrogateescape")
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return csv.reader(text, dialect)


def read_csv(content: Source, size: int | None = None) -> Iterator[Row]:
    """Rows decoded as they are read (no decoded copy of the whole file is ever made). From a
    stream, only a buffer and the current row are in memory; ``size`` is the file's size."""
    reader = _csv_reader(_buffered(content), len(content) if size is None else size)
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield Row(
                line=reader.line_num, cells=[], problems=[(-1, _("The line is not valid CSV."))]
            )
            continue
        yield _checked(reader.line_num, raw)


def read_xlsx(content: bytes) -> Iterator[Row]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRefused(_("The file is not a readable XLSX workbook.")) from exc
    expanded = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos) or 1
    if expanded > MAX_XLSX_EXPANDED or expanded / compressed > MAX_XLSX_RATIO:
        raise FileRefused(_("The workbook expands to far more than its size; it is refused."))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        for line, raw in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield _checked(line, list(raw))
        workbook.close()
    except FileRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise FileRefused(_("The file is not a readable XLSX workbook.")) from exc


def _is_xlsx(stream: io.BufferedIOBase, file_name: str) -> bool:
    return stream.peek(4)[:4] == b"PK\x03\x04" or file_name.lower().endswith(".xlsx")


def _whole(stream: io.BufferedIOBase) -> bytes:
    """An XLSX workbook is a zip archive, read by random access: it is held whole in memory
    (bounded by the upload limit and the expansion checks), never written to disk."""
    return stream.read()


def read_rows(content: Source, file_name: str = "", size: int | None = None) -> Iterator[Row]:
    """Rows of the first sheet (XLSX) or the file (CSV), line numbers as people count them."""
    stream = _buffered(content)
    if _is_xlsx(stream, file_name):
        return read_xlsx(_whole(stream))
    return read_csv(stream, len(content) if size is None else size)


def count_rows(content: Source, file_name: str = "", size: int | None = None) -> int:
    """How many lines the file has (for the progress bar), without checking any cell: a
    quick first pass, so the real one is not paid twice."""
    try:
        stream = _buffered(content)
        if _is_xlsx(stream, file_name):
            return sum(1 for _row in read_xlsx(_whole(stream)))
        reader = _csv_reader(stream, len(content) if size is None else size)
        count = 0
        while True:
            try:
                next(reader)
            except StopIteration:
                return count
            except csv.Error:
                pass
            count += 1
    except FileRefused:
        return 0
