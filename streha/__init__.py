"""Streha: the national information system against trafficking in human beings."""
