"""The ``nzd`` command line."""

from nzd.cli.app import app, main

__all__ = ["app", "main"]
