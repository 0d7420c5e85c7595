"""The rules of Loa's own world: organisations, roles, channels, posts and their lifecycle.

Functions take a ``Session`` first, flush but never commit (the caller owns the
transaction), and raise ``common.errors`` kinds with Vietnamese messages.
"""
