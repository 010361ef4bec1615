"""The users file, argon2 hashes, and API-token verification.

An API token reads ``nzd_<id>_<secret>``: the id finds the token's entry, so one
argon2 verification decides; verified tokens are cached by their SHA-256 so the
(deliberately slow) argon2 check runs once per token and process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import stat
from pathlib import Path
from typing import Annotated

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.auth.principal import Principal, Role
from nzd.errors import ConfigError
from nzd.identifiers import Identifier

__all__ = ["UserDirectory", "UserRecord", "UsersFile", "hash_secret", "load_users", "new_api_token"]

log = logging.getLogger("api")

_HASHER = PasswordHasher()
_TOKEN = re.compile(r"^nzd_([a-z0-9-]{1,64})_([A-Za-z0-9_-]{16,128})$")
_CACHE_MAX = 4096


class ApiTokenRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,64}$")]
    hash: str
    """argon2 hash of the whole token string."""


class UserRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=64)]
    role: Role
    sites: list[Identifier] = Field(default_factory=list)
    password_hash: str | None = None
    tokens: list[ApiTokenRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _scoped(self) -> UserRecord:
        if self.role is Role.SITE_MANAGER and not self.sites:
            raise ValueError("a site_manager needs at least one site")
        return self

    def principal(self) -> Principal:
        sites = frozenset(self.sites) if self.role is Role.SITE_MANAGER else frozenset()
        return Principal(name=self.username, role=self.role, sites=sites)


class UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    users: list[UserRecord] = Field(default_factory=list)


def hash_secret(secret: str) -> str:
    """argon2id hash of a password or token, for the users file."""
    return _HASHER.hash(secret)


def new_api_token(token_id: str) -> tuple[str, str]:
    """A fresh API token and its hash: ``(token, hash)``."""
    if not re.fullmatch(r"[a-z0-9-]{1,64}", token_id):
        raise ValueError("token id must match [a-z0-9-]{1,64}")
    token = f"nzd_{token_id}_{secrets.token_urlsafe(32)}"
    return token, hash_secret(token)


def _verify(hash_: str, secret: str) -> bool:
    try:
        return _HASHER.verify(hash_, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class UserDirectory:
    """Users by name and API tokens by id, loaded from the users file."""

    def __init__(self, users: list[UserRecord]) -> None:
        self._users = {u.username: u for u in users}
        self._tokens: dict[str, tuple[UserRecord, ApiTokenRecord]] = {}
        for u in users:
            for t in u.tokens:
                self._tokens[t.id] = (u, t)
        self._verified: dict[bytes, Principal] = {}
        # Hash once so that an unknown username or token id costs as much as a wrong secret.
        self._dummy_hash = _HASHER.hash(secrets.token_hex(8))
        self.verifications = 0
        """argon2 verifications run for tokens (each costs the same, known id or not)."""

    def __len__(self) -> int:
        return len(self._users)

    def get(self, username: str) -> UserRecord | None:
        return self._users.get(username)

    def login(self, username: str, password: str) -> Principal | None:
        user = self._users.get(username)
        if user is None or user.password_hash is None:
            _verify(self._dummy_hash, password)
            return None
        return user.principal() if _verify(user.password_hash, password) else None

    def cached_token(self, token: str) -> Principal | None:
        """The principal of a token verified before, without the slow argon2 check."""
        return self._verified.get(hashlib.sha256(token.encode()).digest())

    def verify_token(self, token: str) -> Principal | None:
        """Verify with argon2 (CPU-bound, ~50 ms: call it from a worker thread) and cache the result."""
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._verified.get(digest)
        if cached is not None:
            return cached
        m = _TOKEN.fullmatch(token)
        entry = self._tokens.get(m.group(1)) if m else None
        # An unknown id costs one argon2 verification too, against the dummy hash: the answer's
        # timing does not tell which token ids exist.
        self.verifications += 1
        if entry is None:
            _verify(self._dummy_hash, token)
            return None
        if not _verify(entry[1].hash, token):
            return None
        principal = entry[0].principal()
        if len(self._verified) >= _CACHE_MAX:
            self._verified.clear()
        self._verified[digest] = principal
        return principal


def _check_permissions(path: Path) -> None:
    """Refuse a users file others may write (they could add an operator); warn if others may read
    it (argon2 hashes, offline guessing)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # reading it says why
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError([f"{path}:1: <document>: the users file is writable by group or others "
                           f"(mode {stat.filemode(mode)}); make it 0600 (chmod 600 {path})"])
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the users file %s is readable by group or others (mode %s): its password hashes "
                    "can be guessed offline; make it 0600", path, stat.filemode(mode))


def load_users(path: Path | None) -> UserDirectory:
    """Read the users file (YAML or JSON); no path means no users (public view only)."""
    if path is None:
        return UserDirectory([])
    _check_permissions(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError([f"{path}:1: <document>: cannot read the users file: {exc.strerror}"]) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return UserDirectory(UsersFile.model_validate(data or {}).users)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{path}:1: <document>: not valid YAML/JSON: {exc}"]) from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "<document>"
            lines.append(f"{path}: {loc}: {err['msg']}")
        raise ConfigError(lines) from None
