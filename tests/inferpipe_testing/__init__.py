"""Helpers for inferpipe's own tests (on sys.path through pytest's pythonpath)."""
