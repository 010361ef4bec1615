"""Device profiles and example configurations, shipped as package data."""

from pathlib import Path

__all__ = ["EXAMPLES_DIR", "PROFILES_DIR"]

PROFILES_DIR = Path(__file__).parent / "profiles"
EXAMPLES_DIR = Path(__file__).parent / "examples"
