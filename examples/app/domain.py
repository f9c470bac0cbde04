"""The data: the customer schema, the stored-record event and the running totals."""

from __future__ import annotations

import re
from typing import Any

import attrs

from pepperpy.event import topic
from pepperpy.validation import Field, Validation, email, length, one_of, range_, regex

COUNTRIES = ("BR", "DE", "FR", "JP", "NG", "PT", "SE", "US")
PLANS = ("free", "pro", "team")
PERSONAL_FIELDS = ("email", "phone")  # encrypted at rest, decrypted only for authorized readers

# The seed's dict spec, with rules and sanitizers per field.
CUSTOMER = Validation.create_schema(
    {
        "id": Field(str, regex(r"c-\d{5}")),
        "name": Field(str, length(min=1, max=80), sanitize=["strip", "collapse_whitespace"]),
        "age": (int, range_(min=13, max=130)),
        "email": Field(str, email(), sanitize=["strip", "lower"], secret=True),
        "phone": Field(str, length(min=6, max=24), sanitize=["strip"], secret=True),
        "country": Field(str, one_of(COUNTRIES), sanitize=["strip", "upper"]),
        "plan": Field(str, one_of(PLANS), sanitize=["strip", "lower"]),
        "bio": Field(
            str,
            length(max=500),
            default="",
            sanitize=["remove_control", "collapse_whitespace", "strip", "escape_html"],
        ),
    }
)

_NON_DIGITS = re.compile(r"[^\d+]")


def normalize_phone(phone: str) -> str:
    """``+49 399 869-879`` -> ``+49399869879``."""
    return _NON_DIGITS.sub("", phone)


@topic("customers.stored")
@attrs.frozen
class CustomerStored:
    """Published once per record saved to storage."""

    key: str
    id: str
    country: str
    plan: str
    age: int


@attrs.frozen
class Totals:
    """Running totals kept by a StateManager slice, updated by an event subscriber."""

    stored: int = 0
    age_sum: int = 0
    by_country: dict[str, int] = attrs.Factory(dict)
    by_plan: dict[str, int] = attrs.Factory(dict)

    def add(self, event: CustomerStored) -> Totals:
        return Totals(
            stored=self.stored + 1,
            age_sum=self.age_sum + event.age,
            by_country={
                **self.by_country,
                event.country: self.by_country.get(event.country, 0) + 1,
            },
            by_plan={**self.by_plan, event.plan: self.by_plan.get(event.plan, 0) + 1},
        )

    @property
    def mean_age(self) -> float:
        return self.age_sum / self.stored if self.stored else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "mean_age": round(self.mean_age, 1),
            "by_country": dict(sorted(self.by_country.items())),
            "by_plan": dict(sorted(self.by_plan.items())),
        }
