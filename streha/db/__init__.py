"""Streha's database backends: Django's own, with what durability needs added."""
