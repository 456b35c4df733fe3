"""The tamper-evident audit log: who read or changed which personal data, when and why.

Write through ``streha.audit.services`` (``record``, ``record_many``, ``record_each``); check the
log with ``streha audit verify``. See ``models`` for what the database itself refuses.
"""
