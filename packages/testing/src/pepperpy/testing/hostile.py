"""Hostile input for "only a ``PepperPyError`` may escape" tests (needs hypothesis).

Every PepperPy package promises that bad input comes out as a ``PepperPyError``
subclass and nothing else. This module holds the shared part of the tests that
hold a package to it:

- **Strategies** (hypothesis) of hostile values: :func:`weird_text` (lone
  surrogates, byte-order marks, NUL, line separators, NaN/infinity spellings,
  5,000-digit numbers), :func:`hostile_numbers` (huge integers, NaN, infinities,
  ``-0.0``), :func:`hostile_scalars`, :func:`hostile_values` (trees with one draw
  in ten nested thousands deep, see :func:`deep`) and :func:`hostile_bytes` (valid
  documents mangled with non-UTF-8 bytes, BOM-prefixed, random bytes).
- **Objects** that misbehave when printed: :class:`Unprintable` (``__str__``,
  ``__repr__`` and ``__format__`` raise), :class:`NoAttributes` (``__getattr__``
  raises), :func:`cycle`, and :data:`HOSTILE_OBJECTS` (factories by name, for
  ``pytest.mark.parametrize``).
- **The budget**: :func:`fuzz_examples` and :func:`fuzz_settings` read
  ``PEPPERPY_FUZZ_EXAMPLES`` (else 10,000 when ``CI=true``, else a small local
  number).
- **The check**: :func:`assert_only_pepperpy_errors` (one value) and
  :func:`fuzz_only_pepperpy_errors` (every example of a strategy; the failure
  gives the number of escapes and the first few inputs, bounded in size).

Install with ``pip install pepperpy-testing[hypothesis]``.
"""

from __future__ import annotations

import math
import os
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import ConfigurationError, InvalidArgumentError, PepperPyError

__all__ = [
    "BYTE_ORDER_MARKS",
    "DEEP_DEPTHS",
    "HOSTILE_OBJECTS",
    "INSERTS",
    "WEIRD_TEXT",
    "Escape",
    "NoAttributes",
    "Unprintable",
    "assert_only_pepperpy_errors",
    "count_escapes",
    "cycle",
    "deep",
    "describe_escapes",
    "fuzz_examples",
    "fuzz_only_pepperpy_errors",
    "fuzz_settings",
    "hostile_bytes",
    "hostile_numbers",
    "hostile_scalars",
    "hostile_values",
    "mangle",
    "weird_text",
]

# --------------------------------------------------------------------------- the budget

CI_EXAMPLES = 10_000
"""Examples per strategy on CI (``CI=true``) when ``PEPPERPY_FUZZ_EXAMPLES`` is unset."""

LIGHT_MINIMUM = 100
"""The fewest examples a lightened profile (``fraction`` above 1) runs."""


def fuzz_examples(local: int = 300) -> int:
    """The example budget: ``PEPPERPY_FUZZ_EXAMPLES`` if set, else 10,000 on CI, else *local*.

    CI is recognised by ``CI=true`` (set by ``.ci/run`` and GitHub Actions).

    Raises:
        ConfigurationError: ``PEPPERPY_FUZZ_EXAMPLES`` is not a positive integer.
        InvalidArgumentError: *local* is not a positive integer.
    """
    if isinstance(local, bool) or not isinstance(local, int) or local < 1:
        raise InvalidArgumentError(
            f"local must be a positive integer, not {local!r}",
            hint="Pass the number of examples a local run should try, e.g. local=300.",
        )
    raw = os.environ.get("PEPPERPY_FUZZ_EXAMPLES")
    if raw:
        try:
            examples = int(raw)
        except ValueError:
            examples = 0
        if examples < 1:
            raise ConfigurationError(
                f"PEPPERPY_FUZZ_EXAMPLES must be a positive integer, not {raw!r}",
                hint="Set it to a count, e.g. PEPPERPY_FUZZ_EXAMPLES=1000, or unset it.",
            )
        return examples
    return CI_EXAMPLES if os.environ.get("CI", "").lower() == "true" else local


def fuzz_settings(local: int = 300, *, fraction: int = 1) -> settings:
    """Hypothesis settings for a hostile-input test, with the :func:`fuzz_examples` budget.

    No deadline (the machine is noisy), no example database and no health checks
    (hostile strategies are slow and filter-heavy on purpose). ``fraction=10``
    gives a tenth of the budget, but at least 100 examples: for entry points that
    run code the full-budget tests already cover.

    Raises:
        InvalidArgumentError: *fraction* is not a positive integer (or *local*, as above).
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int) or fraction < 1:
        raise InvalidArgumentError(
            f"fraction must be a positive integer, not {fraction!r}",
            hint="Pass 1 for the whole budget or 10 for a tenth.",
        )
    examples = fuzz_examples(local)
    if fraction > 1:
        examples = max(examples // fraction, LIGHT_MINIMUM)
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


# --------------------------------------------------------------------------- values

WEIRD_TEXT: tuple[str, ...] = (
    "\ud800",  # lone surrogates: not encodable as UTF-8
    "a\udfffb",
    "\ufeff",  # a byte-order mark as text
    "\x00",
    "\u2028",  # a line separator that JSON allows and JavaScript did not
    "NaN",
    "Infinity",
    "inf",
    "-inf",
    "-Infinity",
    "1" * 5000,  # past int()'s default digit limit
    "1e999",  # overflows a float
    "-1e400",
)
"""Text that trips decoders, coercers and encoders."""

HUGE_INTEGERS: tuple[int, ...] = (10**400, -(10**400), 2**63, -(2**63) - 1, 2**64, 2**1024)
SPECIAL_FLOATS: tuple[float, ...] = (math.nan, math.inf, -math.inf, 1e308, -0.0)

BYTE_ORDER_MARKS: tuple[bytes, ...] = (
    b"",
    b"\xef\xbb\xbf",  # UTF-8
    b"\xff\xfe",  # UTF-16 LE
    b"\xfe\xff",  # UTF-16 BE
    b"\xef\xbb\xbf\xef\xbb\xbf",
    b"\x80",  # a stray continuation byte
)
"""Prefixes :func:`hostile_bytes` puts before valid documents."""

INSERTS: tuple[bytes, ...] = (
    b"",
    b"\xed\xa0\x80",  # a surrogate encoded as UTF-8 (invalid)
    b"\xff",
    b"\xc3",  # a truncated two-byte sequence
    b"\x00",
    b"\\ud800",
    b"[",
    b"{",
    b'"',
)
"""Bytes :func:`mangle` inserts into valid documents."""

DEEP_DEPTHS: tuple[int, ...] = (129, 400, 1_200, 3_000)
"""Nesting depths :func:`hostile_values` builds: past 128 and past the recursion limit."""


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if not any(type(value) is type(old) and value == old for old in seen):
            seen.append(value)
    return seen


def weird_text(*extra: str) -> st.SearchStrategy[str]:
    """One of :data:`WEIRD_TEXT` or of *extra* (a package's own hostile spellings)."""
    return st.sampled_from(_unique([*WEIRD_TEXT, *extra]))


def hostile_numbers(*extra: int | float) -> st.SearchStrategy[int | float]:
    """Any int or float, plus huge integers, NaN, infinities, ``1e308``, ``-0.0`` and *extra*."""
    specials: list[int | float] = [*HUGE_INTEGERS, *SPECIAL_FLOATS, *extra]
    return st.integers() | st.floats() | st.sampled_from(specials)


def hostile_scalars(
    text: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Any]:
    """``None``, booleans, :func:`hostile_numbers` and text (*text*, else short text or weird)."""
    if text is None:
        text = st.text(max_size=12) | weird_text()
    return st.none() | st.booleans() | hostile_numbers() | text


def deep(depth: int, leaf: Any) -> Any:
    """*leaf* nested *depth* times, alternating ``{"k": ...}`` and ``[...]``."""
    value = leaf
    for index in range(depth):
        value = [value] if index % 2 else {"k": value}
    return value


def hostile_values(
    scalars: st.SearchStrategy[Any] | None = None,
    *,
    keys: st.SearchStrategy[Any] | None = None,
    depths: Sequence[int] = DEEP_DEPTHS,
    max_size: int = 4,
    max_leaves: int = 8,
) -> st.SearchStrategy[Any]:
    """JSON-like trees of *scalars*; one draw in ten is :func:`deep`, *depths* deep.

    *scalars* defaults to :func:`hostile_scalars`, *keys* to short text or weird text.
    """
    if scalars is None:
        scalars = hostile_scalars()
    if keys is None:
        keys = st.text(max_size=4) | weird_text()
    container_keys = keys
    trees = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=max_size)
            | st.dictionaries(container_keys, inner, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )
    nested = st.builds(deep, st.sampled_from(list(depths)), scalars)
    return st.one_of(*[trees] * 9, nested)


def _encode(document: bytes | str) -> bytes:
    return document if isinstance(document, bytes) else document.encode("utf-8", "surrogatepass")


def mangle(document: bytes | str, cut: int, flip: int, insert: bytes) -> bytes:
    """*document* with *insert* spliced in at *cut* and the top bit of one byte flipped."""
    data = _encode(document)
    if not data:
        return insert
    cut %= len(data) + 1
    mangled = bytearray(data[:cut] + insert + data[cut:])
    mangled[flip % len(mangled)] ^= 0x80
    return bytes(mangled)


def hostile_bytes(
    documents: Sequence[bytes | str],
    *,
    inserts: Sequence[bytes] = (),
    text: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[bytes]:
    """Bytes aimed at a decoder, built around valid *documents*.

    The documents as they are (text is UTF-8 with surrogates passed through),
    :func:`mangle`-d with :data:`INSERTS` and *inserts*, prefixed with each of
    :data:`BYTE_ORDER_MARKS`; random bytes; and *text* (default
    :func:`weird_text` or up to 64 characters) encoded.
    """
    if not documents:
        raise InvalidArgumentError(
            "hostile_bytes needs at least one valid document",
            hint="Pass documents the decoder accepts; the strategy mangles them.",
        )
    if text is None:
        text = weird_text() | st.text(max_size=64)
    docs = st.sampled_from([_encode(d) for d in documents])
    spliced = st.sampled_from(_unique([*INSERTS, *inserts]))
    cuts = st.integers(0, 10**6)
    return st.one_of(
        docs,
        st.builds(mangle, docs, cuts, cuts, spliced),
        st.builds(lambda prefix, doc: prefix + doc, st.sampled_from(BYTE_ORDER_MARKS), docs),
        st.binary(max_size=64),
        text.map(_encode),
    )


class Unprintable:
    """An object whose ``__str__``, ``__repr__`` and ``__format__`` raise ``RuntimeError``."""

    def __str__(self) -> str:
        raise RuntimeError("str exploded")

    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    def __format__(self, spec: str) -> str:
        raise RuntimeError("format exploded")


class NoAttributes:
    """An object whose every missing attribute lookup raises ``RuntimeError``."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("no attributes")

    def __repr__(self) -> str:
        return "NoAttributes()"


def cycle() -> list[Any]:
    """A list that contains itself."""
    loop: list[Any] = []
    loop.append(loop)
    return loop


HOSTILE_OBJECTS: Mapping[str, Callable[[], Any]] = {
    "unprintable": Unprintable,
    "no-attributes": NoAttributes,
    "nan": lambda: math.nan,
    "inf": lambda: math.inf,
    "-inf": lambda: -math.inf,
    "cycle": cycle,
    "huge": lambda: "x" * 200_000,
    "odd-keys": lambda: {1: "a", (2, 3): Unprintable(), None: math.inf},
}
"""Factories of values that are hard to print, compare or serialise, by name.

Use them as ``@pytest.mark.parametrize("make", HOSTILE_OBJECTS.values(),
ids=HOSTILE_OBJECTS.keys())`` and call ``make()`` in the test: each test gets a
fresh value."""

# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Escape:
    """A non-``PepperPyError`` exception and the input that raised it."""

    value: Any
    error: BaseException


_SHORT = reprlib.Repr()  # bounded depth and length: the inputs nest thousands deep
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 60, 60, 60


def _text(value: Any, render: Callable[[Any], str]) -> str:
    try:
        return render(value)
    except Exception as exc:  # a hostile value's own str/repr raised
        return f"<unprintable: {type(exc).__name__}>"


def describe_escapes(name: str, escapes: Sequence[Escape], *, shown: int = 3) -> str:
    """``"<name>: N escapes; first: [...]"`` with each error and a bounded repr of its input."""
    first = [
        f"{type(e.error).__name__}: {_text(e.error, str)[:200]} <- {_text(e.value, _SHORT.repr)}"
        for e in escapes[:shown]
    ]
    return f"{name}: {len(escapes)} escapes; first: {first}"


def count_escapes(
    strategy: st.SearchStrategy[Any],
    call: Callable[[Any], object],
    profile: settings | None = None,
) -> list[Escape]:
    """Run *call* on each example of *strategy*; return what escaped that is not a PepperPyError.

    *profile* defaults to ``fuzz_settings()``. A ``PepperPyError`` is the promised
    outcome of bad input; any other ``Exception`` is recorded and the run goes on,
    so the count is the whole picture. ``KeyboardInterrupt`` and ``SystemExit``
    propagate.
    """
    escapes: list[Escape] = []

    @(profile if profile is not None else fuzz_settings())
    @given(strategy)
    def run(value: Any) -> None:
        try:
            call(value)
        except PepperPyError:
            pass
        except Exception as exc:  # an escape: counted, reported by the caller
            escapes.append(Escape(value, exc))

    run()
    return escapes


def fuzz_only_pepperpy_errors(
    call: Callable[[Any], object],
    strategy: st.SearchStrategy[Any],
    *,
    profile: settings | None = None,
    name: str | None = None,
) -> None:
    """Assert that *call* raises nothing but ``PepperPyError`` on any example of *strategy*.

    Raises:
        AssertionError: Something else escaped; the message is :func:`describe_escapes`.
    """
    escapes = count_escapes(strategy, call, profile)
    if escapes:
        label = name if name is not None else getattr(call, "__name__", repr(call))
        raise AssertionError(describe_escapes(label, escapes)) from escapes[0].error


def assert_only_pepperpy_errors(call: Callable[[Any], object], value: Any) -> None:
    """Assert that ``call(value)`` returns or raises a ``PepperPyError``, nothing else.

    Raises:
        AssertionError: Another exception escaped (chained as the cause).
    """
    try:
        call(value)
    except PepperPyError:
        return
    except Exception as exc:
        escape = Escape(value, exc)
        label = getattr(call, "__name__", "call")
        raise AssertionError(describe_escapes(label, [escape])) from exc
