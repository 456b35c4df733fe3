"""Receiving uploaded files without ever writing them to disk in plaintext.

Django keeps uploads over 2.5 MB in a temporary file; a victim's passport scan or medical
record must not lie unencrypted on a disk, even for a moment. ``BoundedMemoryUploadHandler`` is
the only upload handler (``FILE_UPLOAD_HANDLERS``): it keeps the one ``upload`` file of a
request in memory, and never more than ``STREHA_MAX_DOCUMENT_BYTES`` of it, so memory stays
bounded and the services refuse a larger file by its size with a clear message.
"""

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

UPLOAD_FIELD = "upload"  # the one file field of every upload form and endpoint


class BoundedMemoryUploadHandler(FileUploadHandler):
    """Receives the one ``upload`` file of a request in memory, never in a temporary file (a
    victim's document must not lie in plaintext on a disk), and never more than the size limit.

    A larger file keeps its true ``size`` but not its content, so ``attach_case_document``
    refuses it by size with a clear message; other file fields are skipped.
    """

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = settings.STREHA_MAX_DOCUMENT_BYTES if limit is None else limit
        self.received_upload = False
        self.buffer: io.BytesIO | None = None
        self.received = 0

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        if field_name != UPLOAD_FIELD or self.received_upload:
            raise SkipFile
        self.received_upload = True
        self.buffer = io.BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.buffer is not None:
            if self.received > self.limit:
                self.buffer = None  # too large: keep counting, drop what was kept
            else:
                self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        buffer = self.buffer if self.buffer is not None else io.BytesIO()
        buffer.seek(0)
        self.buffer = None
        return InMemoryUploadedFile(
            file=buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
