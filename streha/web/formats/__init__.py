"""Date formats: one per language, everywhere (settings.FORMAT_MODULE_PATH points here).

Django's own locale formats mix long and short forms ("Nov. 30, 2026, 3:04 p.m." beside
"11/30/2026"); Streha's pages show one numeric form per language, so the long and short names
are the same. Input accepts the language's form and ISO dates (what the date pickers send).
"""
