"""API-token verification time by case, one JSON line.

``known_id_wrong_secret_ms`` and ``unknown_id_ms``: median time of ``verify_token`` (argon2
with the library's default parameters) for a known token id with a wrong secret and for an id
no user has; ``ratio`` is their quotient, near 1 when ids cannot be told apart by timing (it was
about 70 before unknown ids were verified against a dummy hash). ``valid_ms``: a valid token's
first check, the baseline (then it is cached).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from api.auth import hash_secret, load_users, new_api_token  # noqa: E402

ROUNDS = 15


def main() -> None:
    token, hashed = new_api_token("ops")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "users.yaml"
        path.write_text(yaml.safe_dump({"users": [{"username": "operator", "role": "operator",
                                                   "password_hash": hash_secret("benchmark-only"),
                                                   "tokens": [{"id": "ops", "hash": hashed}]}]}))
        users = load_users(path)
    secret = token.split("_", 2)[2]

    def median_ms(probe: str) -> float:
        times = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            users.verify_token(probe)
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    wrong = median_ms(f"nzd_ops_{'x' * len(secret)}")
    unknown = median_ms(f"nzd_nosuchid_{secret}")
    t0 = time.perf_counter()
    users.verify_token(token)
    valid = (time.perf_counter() - t0) * 1000
    print(json.dumps({"benchmark": "token_timing", "rounds": ROUNDS,
                      "known_id_wrong_secret_ms": round(wrong, 2), "unknown_id_ms": round(unknown, 2),
                      "ratio": round(wrong / unknown, 3), "valid_ms": round(valid, 2)}))


if __name__ == "__main__":
    main()
