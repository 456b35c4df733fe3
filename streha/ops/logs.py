"""Structured logs: one JSON object per line, with the server-side request id.

Log messages name objects by opaque id only (see settings.LOGGING). An exception adds its class
and where it was raised (file, line, function for each frame) but not its message: database
errors quote the values of the row they refused (``DETAIL: Key (...)=(...)``), and an exception
message may echo what a user typed.
"""

import json
import logging
import traceback
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, trace = record.exc_info
            entry["exception"] = f"{kind.__module__}.{kind.__qualname__}"
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(trace)
            ]
        return json.dumps(entry, ensure_ascii=False)
