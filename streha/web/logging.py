import contextvars
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


# Paths whose requests leave no access-log line at all: a line records the exact second a
# report was sent (and, behind no proxy, from where), which could trace the reporter.
UNLOGGED_PREFIXES = ("/report/",)


def _gunicorn_logger_base():
    from gunicorn.glogging import Logger

    return Logger


class AccessLogWithoutTipLine(_gunicorn_logger_base()):
    """gunicorn's logger (``--logger-class``), minus the access-log lines of the tip line."""

    def access(self, resp, req, environ, request_time):
        path = environ.get("PATH_INFO", "") or getattr(req, "path", "")
        if path == "/report" or path.startswith(UNLOGGED_PREFIXES):
            return
        super().access(resp, req, environ, request_time)
