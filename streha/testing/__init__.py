"""Test support shared by every app's tests: factories and helpers (never imported by the app)."""
