"""Generate the bundled data set, records.jsonl, deterministically.

    python examples/app/dataset/make_records.py          # rewrites records.jsonl beside this file

2,000 customer sign-ups as JSON lines. About 8% are deliberately invalid, each in
one known way, so the example's report can list the rejections by reason: a bad
or missing e-mail, an age out of range or not a number, a blank name, an unknown
country or plan, a duplicate id, and a few lines that are not JSON at all. The
same seed always gives the same file, byte for byte.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

COUNT = 2000
SEED = 2026
OUT = Path(__file__).resolve().parent / "records.jsonl"

FIRST = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lucia",
    "Marta",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Souza",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Haddad",
    "Kowalski",
    "Nguyen",
    "Rossi",
    "Schmidt",
    "Garcia",
    "Ivanova",
    "Mensah",
    "O'Brien",
    "Petrov",
    "Silva",
]
COUNTRIES = {
    "BR": "+55",
    "DE": "+49",
    "FR": "+33",
    "JP": "+81",
    "NG": "+234",
    "PT": "+351",
    "SE": "+46",
    "US": "+1",
}
PLANS = ["free", "pro", "team"]
BIOS = [
    "Likes tea and long walks.",
    "  Builds <b>robots</b> on weekends.  ",
    "Runs a small bakery\tin town.",
    "Reads   sci-fi,   mostly.",
    "Plays <i>chess</i> & go.",
    "",
]
# Each invalid kind, as (name, how to spoil a valid record).
INVALID = [
    "bad_email",
    "missing_email",
    "age_out_of_range",
    "age_not_a_number",
    "blank_name",
    "unknown_country",
    "unknown_plan",
    "duplicate_id",
    "malformed_json",
]


def valid(rng: random.Random, n: int) -> dict[str, object]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    country = rng.choice(sorted(COUNTRIES))
    user = f"{first}.{last}".lower().replace("'", "")
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    return {
        "id": f"c-{n:05d}",
        "name": f" {first}  {last} " if n % 7 == 0 else f"{first} {last}",
        "age": rng.randrange(18, 90),
        "email": f"{user}{n}@example.org" if n % 5 else f"  {user.upper()}{n}@Example.org ",
        "phone": f"{COUNTRIES[country]} {digits[:3]} {digits[3:6]}-{digits[6:]}",
        "country": country,
        "plan": rng.choice(PLANS),
        "bio": rng.choice(BIOS),
    }


def spoil(record: dict[str, object], kind: str, rng: random.Random) -> dict[str, object] | str:
    record = dict(record)
    if kind == "bad_email":
        record["email"] = str(record["email"]).replace("@", " at ")
    elif kind == "missing_email":
        del record["email"]
    elif kind == "age_out_of_range":
        record["age"] = rng.choice([-3, 0, 131, 212])
    elif kind == "age_not_a_number":
        record["age"] = rng.choice(["thirty", "n/a", ""])
    elif kind == "blank_name":
        record["name"] = "   "
    elif kind == "unknown_country":
        record["country"] = "XX"
    elif kind == "unknown_plan":
        record["plan"] = "enterprise-plus"
    elif kind == "duplicate_id":
        record["id"] = f"c-{rng.randrange(1, 200):05d}"
    elif kind == "malformed_json":
        return json.dumps(record)[: rng.randrange(20, 60)]
    return record


def generate() -> list[tuple[str, str | None]]:
    """Every line, with the kind of damage done to it (None: a valid record)."""
    rng = random.Random(SEED)
    lines: list[tuple[str, str | None]] = []
    for n in range(1, COUNT + 1):
        record = valid(rng, n)
        item: dict[str, object] | str = record
        kind = None
        if n > 200 and rng.random() < 0.08:
            kind = INVALID[n % len(INVALID)]
            item = spoil(record, kind, rng)
        text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
        lines.append((text, kind))
    return lines


def main() -> None:
    lines = [text for text, _ in generate()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} lines to {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
