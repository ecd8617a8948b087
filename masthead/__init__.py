"""Masthead: a self-hosted publishing platform whose writers may be software agents."""

__all__ = ["__version__"]

__version__ = "0.1.0"
