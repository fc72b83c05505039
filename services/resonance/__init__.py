"""Resonance: a SQL-first community economy for Discord."""

__version__ = "0.1.0"
