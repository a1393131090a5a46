"""Tiny implementation modules used by the meta tests (imported by suite subprocesses)."""
