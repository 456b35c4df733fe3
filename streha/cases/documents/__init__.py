"""Documents attached to victim cases: sealed at rest, read by field group, audited.

``services`` (attach, withdraw, erase), ``selectors`` (what a user may see of them), ``views``
and ``api`` (thin), ``urls``.
"""
