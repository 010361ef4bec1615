"""Finding and loading profile files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from firmware_configs import PROFILES_DIR
from gateway.profiles.schema import Profile
from nzd.config import load_model
from nzd.errors import ConfigError

__all__ = ["available_profiles", "load_profile", "profile_path"]


def profile_path(path_or_name: str | Path) -> Path:
    """The file of a profile: a path as given, or a bare name in ``PROFILES_DIR``."""
    text = str(path_or_name)
    candidate = Path(text)
    if candidate.suffix in (".yaml", ".yml") or "/" in text or "\\" in text:
        return candidate
    return PROFILES_DIR / f"{text}.yaml"


def available_profiles() -> list[str]:
    """Names of the shipped profiles (files in ``PROFILES_DIR``), sorted."""
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(path_or_name: str | Path) -> Profile:
    """Load and validate a profile; errors read ``FILE:LINE: field.path: message``.

    ``path_or_name`` is a path to a YAML file or a bare name such as
    ``eastron_sdm630`` (looked up in ``firmware_configs/profiles``).
    """
    path = profile_path(path_or_name)
    if not path.exists():
        known = ", ".join(available_profiles())
        raise ConfigError([f"{path}: no such profile (shipped profiles: {known})"])
    return _load_cached(path.resolve(), path.stat().st_mtime_ns, str(path))


@lru_cache(maxsize=128)
def _load_cached(resolved: Path, mtime_ns: int, shown: str) -> Profile:
    return load_model(Path(shown), Profile)
