"""pepperpy.testing.hostile: the shared hostile-input strategies, budget and check.

These helpers replaced copies in the hostile-input tests of config, logging,
telemetry, serialization and validation (review finding: duplicated test
scaffolding), so each test below pins a property those tests relied on: every
hostile value is reachable, the budget is the one they used, and the check
fails on anything but a ``PepperPyError``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import (
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    PepperPyError,
)
from pepperpy.testing.hostile import (
    BYTE_ORDER_MARKS,
    DEEP_DEPTHS,
    HOSTILE_OBJECTS,
    WEIRD_TEXT,
    Escape,
    NoAttributes,
    Unprintable,
    assert_only_pepperpy_errors,
    count_escapes,
    cycle,
    deep,
    describe_escapes,
    fuzz_examples,
    fuzz_only_pepperpy_errors,
    fuzz_settings,
    hostile_bytes,
    hostile_numbers,
    hostile_scalars,
    hostile_values,
    mangle,
    weird_text,
)

SEARCH = settings(database=None, max_examples=5_000, suppress_health_check=list(HealthCheck))
SMALL = settings(max_examples=50, database=None, deadline=None)


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, (list, dict)) and value:
        value = value[0] if isinstance(value, list) else next(iter(value.values()))
        depth += 1
    return depth


# --------------------------------------------------------------------------- the budget


@pytest.fixture
def no_budget_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("PEPPERPY_FUZZ_EXAMPLES", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return monkeypatch


def test_budget_is_local_by_default_and_ten_thousand_on_ci(
    no_budget_env: pytest.MonkeyPatch,
) -> None:
    assert fuzz_examples() == 300
    assert fuzz_examples(200) == 200
    no_budget_env.setenv("CI", "TRUE")
    assert fuzz_examples(200) == 10_000
    no_budget_env.setenv("CI", "1")  # only "true" counts, as .ci/run and GitHub Actions set it
    assert fuzz_examples(200) == 200


def test_budget_env_variable_wins(no_budget_env: pytest.MonkeyPatch) -> None:
    no_budget_env.setenv("CI", "true")
    no_budget_env.setenv("PEPPERPY_FUZZ_EXAMPLES", "7")
    assert fuzz_examples(200) == 7
    no_budget_env.setenv("PEPPERPY_FUZZ_EXAMPLES", "")  # empty means unset
    assert fuzz_examples(200) == 10_000


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "1.5"])
def test_a_bad_budget_env_variable_is_a_configuration_error(
    raw: str, no_budget_env: pytest.MonkeyPatch
) -> None:
    no_budget_env.setenv("PEPPERPY_FUZZ_EXAMPLES", raw)
    with pytest.raises(ConfigurationError, match="PEPPERPY_FUZZ_EXAMPLES") as info:
        fuzz_examples()
    assert info.value.hint


@pytest.mark.parametrize("local", [0, -1, True, 2.5, "300"])
def test_a_bad_local_budget_is_an_invalid_argument(local: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="local"):
        fuzz_examples(local)


def test_settings_carry_the_budget_and_no_deadline(no_budget_env: pytest.MonkeyPatch) -> None:
    profile = fuzz_settings(200)
    assert profile.max_examples == 200
    assert profile.deadline is None
    assert profile.database is None
    assert set(profile.suppress_health_check) == set(HealthCheck)


def test_a_lightened_profile_is_a_tenth_but_at_least_one_hundred(
    no_budget_env: pytest.MonkeyPatch,
) -> None:
    no_budget_env.setenv("PEPPERPY_FUZZ_EXAMPLES", "5000")
    assert fuzz_settings(fraction=10).max_examples == 500
    assert fuzz_settings(fraction=1).max_examples == 5000
    no_budget_env.setenv("PEPPERPY_FUZZ_EXAMPLES", "5")
    assert fuzz_settings(fraction=10).max_examples == 100
    assert fuzz_settings().max_examples == 5  # the full profile has no minimum


@pytest.mark.parametrize("fraction", [0, -10, True, 0.5])
def test_a_bad_fraction_is_an_invalid_argument(fraction: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="fraction"):
        fuzz_settings(fraction=fraction)


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize("value", [*WEIRD_TEXT, "a package's own"])
def test_weird_text_reaches_every_value_and_the_extras(value: str) -> None:
    assert find(weird_text("a package's own", "\ud800"), lambda t: t == value, settings=SEARCH)


def test_weird_text_covers_the_classes_the_tests_rely_on() -> None:
    assert any("\ud800" <= c <= "\udfff" for t in WEIRD_TEXT for c in t)  # lone surrogates
    assert "\ufeff" in WEIRD_TEXT and "\x00" in WEIRD_TEXT
    assert {"NaN", "Infinity", "-inf", "1e999"} <= set(WEIRD_TEXT)
    assert max(len(t) for t in WEIRD_TEXT) >= 5000  # past int()'s digit limit


@pytest.mark.parametrize(
    ("name", "predicate"),
    [
        ("nan", lambda n: isinstance(n, float) and math.isnan(n)),
        ("inf", lambda n: n == math.inf),
        ("-inf", lambda n: n == -math.inf),
        ("-0.0", lambda n: n == 0 and math.copysign(1, n) < 0),
        ("1e308", lambda n: n == 1e308),
        ("10**400", lambda n: n == 10**400),
        ("-(10**400)", lambda n: n == -(10**400)),
        ("2**64", lambda n: n == 2**64),
        ("-(2**63)-1", lambda n: n == -(2**63) - 1),
        ("2**1024", lambda n: n == 2**1024),
        ("extra", lambda n: n == 12345.5),
    ],
)
def test_hostile_numbers_reach_every_special(name: str, predicate: Any) -> None:
    assert find(hostile_numbers(12345.5), predicate, settings=SEARCH) is not None, name


def test_hostile_scalars_reach_none_booleans_numbers_and_weird_text() -> None:
    scalars = hostile_scalars()
    assert find(scalars, lambda v: v is None, settings=SEARCH) is None
    assert find(scalars, lambda v: v is True, settings=SEARCH) is True
    assert find(scalars, lambda v: v == "\ud800", settings=SEARCH) == "\ud800"
    custom = hostile_scalars(st.just("only"))
    assert find(custom, lambda v: isinstance(v, str), settings=SEARCH) == "only"


def test_deep_alternates_dicts_and_lists() -> None:
    assert deep(0, 1) == 1
    assert deep(3, 1) == {"k": [{"k": 1}]}
    assert _depth(deep(3_000, None)) == 3_000


def test_hostile_values_reach_every_depth() -> None:
    depths: set[int] = set()

    @settings(SMALL, max_examples=1_000, derandomize=True)
    @given(hostile_values())
    def collect(value: Any) -> None:
        depths.add(_depth(value))

    collect()
    assert set(DEEP_DEPTHS) <= depths  # find() cannot: hypothesis pretty-prints what it finds
    assert {0, 1, 2} & depths  # and the shallow trees, nine draws in ten


def test_hostile_values_take_scalars_keys_and_depths() -> None:
    values = hostile_values(st.just(7), keys=st.just("\ufeff"), depths=[5])
    assert find(values, lambda v: isinstance(v, dict) and "\ufeff" in v, settings=SEARCH)
    assert _depth(find(values, lambda v: _depth(v) >= 5, settings=SEARCH)) == 5
    assert find(values, lambda v: v == 7, settings=SEARCH) == 7
    both = find(hostile_values(), lambda v: isinstance(v, dict) and "\ud800" in v, settings=SEARCH)
    assert "\ud800" in both


def test_mangle_splices_and_flips_one_byte() -> None:
    assert mangle(b"abc", 1, 0, b"\xff") == b"\xe1\xffbc"
    assert mangle(b"abc", 10**6, 4, b"!") == mangle(b"abc", 10**6 % 4, 0, b"!")
    assert mangle("\ud800", 0, 0, b"") == bytes([0xED ^ 0x80, 0xA0, 0x80])
    assert mangle(b"", 5, 5, b"[") == b"["


def test_hostile_bytes_needs_a_document() -> None:
    with pytest.raises(InvalidArgumentError, match="document"):
        hostile_bytes([])


@pytest.mark.parametrize(
    ("name", "predicate"),
    [
        ("valid", lambda b: b == b'{"a": 1}'),
        ("text document", lambda b: b == b"a = 1"),
        ("utf-8 bom", lambda b: b == BYTE_ORDER_MARKS[1] + b'{"a": 1}'),
        ("utf-16 bom", lambda b: b.startswith(b"\xff\xfe") and b.endswith(b"a = 1")),
        ("surrogate insert", lambda b: b"\xed\xa0\x80" in b and len(b) > 3),
        ("own insert", lambda b: b"${" in b and len(b) > 2),
        ("not utf-8", lambda b: b"\x80" in b and b != b"\x80"),
        ("weird text", lambda b: b == "\ud800".encode("utf-8", "surrogatepass")),
    ],
)
def test_hostile_bytes_reach_every_kind(name: str, predicate: Any) -> None:
    strategy = hostile_bytes([b'{"a": 1}', "a = 1"], inserts=[b"${"])
    assert find(strategy, predicate, settings=SEARCH), name


def test_hostile_bytes_text_can_be_replaced() -> None:
    strategy = hostile_bytes(["x"], text=st.just("only-this"))
    assert find(strategy, lambda b: b"only-this" in b, settings=SEARCH) == b"only-this"


def test_unprintable_raises_from_str_repr_and_format() -> None:
    value = Unprintable()
    for render in (str, repr, lambda v: f"{v}", lambda v: format(v, ">5")):
        with pytest.raises(RuntimeError, match="exploded"):
            render(value)


def test_no_attributes_raises_on_any_missing_attribute() -> None:
    value = NoAttributes()
    with pytest.raises(RuntimeError, match="no attributes"):
        _ = value.__dict_items__  # type: ignore[attr-defined]
    assert repr(value) == "NoAttributes()"


def test_cycle_contains_itself() -> None:
    loop = cycle()
    assert loop[0] is loop


def test_hostile_objects_are_fresh_and_hostile() -> None:
    assert set(HOSTILE_OBJECTS) >= {"unprintable", "no-attributes", "nan", "inf", "cycle", "huge"}
    assert HOSTILE_OBJECTS["cycle"]() is not HOSTILE_OBJECTS["cycle"]()
    assert isinstance(HOSTILE_OBJECTS["unprintable"](), Unprintable)
    assert math.isnan(HOSTILE_OBJECTS["nan"]())
    assert HOSTILE_OBJECTS["-inf"]() == -math.inf
    assert len(HOSTILE_OBJECTS["huge"]()) >= 100_000
    odd = HOSTILE_OBJECTS["odd-keys"]()
    assert any(not isinstance(key, str) for key in odd)
    assert any(isinstance(v, Unprintable) for v in odd.values())


# --------------------------------------------------------------------------- the check


def _picky(value: int) -> None:
    if value % 3 == 0:
        raise NotFoundError(f"no {value}")
    if value % 3 == 1:
        raise KeyError(value)


def test_count_escapes_records_every_non_pepperpy_error() -> None:
    escapes = count_escapes(st.integers(0, 1_000), _picky, SMALL)
    assert escapes
    assert all(isinstance(e, Escape) and isinstance(e.error, KeyError) for e in escapes)
    assert all(e.value % 3 == 1 for e in escapes)


def test_count_escapes_lets_pepperpy_errors_and_returns_through() -> None:
    assert count_escapes(st.integers(0, 1_000).map(lambda n: n * 3), _picky, SMALL) == []
    assert count_escapes(st.integers(0, 1_000).map(lambda n: n * 3 + 2), _picky, SMALL) == []


def test_count_escapes_uses_the_budget_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_FUZZ_EXAMPLES", "37")
    seen: list[int] = []
    count_escapes(st.integers(), seen.append)
    assert len(seen) == 37  # one call per example: no shrinking, nothing failed


def test_fuzz_only_pepperpy_errors_fails_with_the_count_and_the_cause() -> None:
    with pytest.raises(AssertionError, match=r"^picky: \d+ escapes; first: \['KeyError") as info:
        fuzz_only_pepperpy_errors(_picky, st.integers(0, 1_000), profile=SMALL, name="picky")
    assert isinstance(info.value.__cause__, KeyError)
    with pytest.raises(AssertionError, match=r"^_picky: "):
        fuzz_only_pepperpy_errors(_picky, st.integers(0, 1_000), profile=SMALL)


def test_fuzz_only_pepperpy_errors_passes_when_only_pepperpy_errors_escape() -> None:
    fuzz_only_pepperpy_errors(_picky, st.integers(0, 100).map(lambda n: 3 * n), profile=SMALL)


def test_assert_only_pepperpy_errors_on_one_value() -> None:
    assert_only_pepperpy_errors(_picky, 2)  # returns
    assert_only_pepperpy_errors(_picky, 3)  # a PepperPyError subclass
    with pytest.raises(AssertionError, match=r"_picky: 1 escapes; first: \['KeyError: 1 <- 1'\]"):
        assert_only_pepperpy_errors(_picky, 1)


def test_assert_only_pepperpy_errors_does_not_catch_a_pepperpy_check_failure() -> None:
    def fails(value: object) -> None:
        raise AssertionError("the call's own assertion")

    with pytest.raises(AssertionError) as info:
        assert_only_pepperpy_errors(fails, None)
    assert "1 escapes" in str(info.value)  # an AssertionError is an escape, reported as such
    assert isinstance(info.value.__cause__, AssertionError)


def test_reports_are_bounded_and_survive_hostile_values() -> None:
    huge = deep(3_000, "x" * 100_000)
    boom = RuntimeError(Unprintable())
    text = describe_escapes(
        "t", [Escape(huge, ValueError("y" * 10_000)), Escape(Unprintable(), boom)]
    )
    assert len(text) < 1_000
    assert "<unprintable: RuntimeError>" in text
    assert text.startswith("t: 2 escapes")
    many = [Escape(n, ValueError(n)) for n in range(10)]
    assert describe_escapes("m", many).count("ValueError") == 3
    assert describe_escapes("m", many, shown=5).count("ValueError") == 5


def test_pepperpy_error_is_the_only_pass() -> None:
    """A bare PepperPyError passes as well as its subclasses."""

    def base(value: object) -> None:
        raise PepperPyError("base")

    assert_only_pepperpy_errors(base, None)
