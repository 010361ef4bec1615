"""Users, roles and credentials: argon2-hashed passwords and API tokens, short-lived JWTs."""

from api.auth.principal import Principal, Role
from api.auth.users import UserDirectory, UserRecord, UsersFile, hash_secret, load_users, new_api_token

__all__ = [
    "Principal",
    "Role",
    "UserDirectory",
    "UserRecord",
    "UsersFile",
    "hash_secret",
    "load_users",
    "new_api_token",
]
