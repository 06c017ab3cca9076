"""A template for coursecheck plugins: copy the folder, rename, replace the rule (README.md)."""

__version__ = "0.1.0"
