from __future__ import annotations

import asyncio
import contextvars
import pickle
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy import context
from pepperpy.core.exceptions import InvalidArgumentError, ValidationError

OTHER: contextvars.ContextVar[str] = contextvars.ContextVar("other_library_var", default="unset")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def read(key: str) -> object:
    return context.get(key)


class TestSnapshot:
    def test_snapshot_is_a_frozen_mapping(self) -> None:
        with context.scope(request_id="r-1", user="ada"):
            snap = context.snapshot()
            context.bind(user="bob")
        assert dict(snap) == {"request_id": "r-1", "user": "ada"}
        assert snap["user"] == "ada"
        assert len(snap) == 2
        assert not snap.detached
        assert snap.detach().detached
        assert "request_id='r-1'" in repr(snap)

    def test_run_in_carries_values_and_other_context_vars(self) -> None:
        with context.scope(request_id="r-2"):
            OTHER.set("other-value")
            snap = context.snapshot()
        OTHER.set("unset")

        def body() -> tuple[object, str]:
            context.bind(leak="no")
            return context.get("request_id"), OTHER.get()

        assert context.run_in(snap, body) == ("r-2", "other-value")
        assert snap.run(read, "request_id") == "r-2"
        assert context.get("leak") is None
        assert "leak" not in snap

    def test_detached_snapshot_merges_over_caller(self) -> None:
        snap = context.Snapshot({"request_id": "r-3"})
        with context.scope(service="api"):
            assert context.run_in(snap, lambda: dict(context.current())) == {
                "service": "api",
                "request_id": "r-3",
            }

    async def test_run_in_with_coroutine_function(self) -> None:
        async def fetch(key: str) -> object:
            await asyncio.sleep(0)
            context.bind(inner="x")
            return context.get(key)

        with context.scope(request_id="r-4"):
            snap = context.snapshot()
        assert await context.run_in(snap, fetch, "request_id") == "r-4"
        assert context.get("inner") is None

    async def test_create_task_in_snapshot(self) -> None:
        with context.scope(request_id="queued"):
            snap = context.snapshot()

        async def job() -> object:
            return context.get("request_id")

        assert await context.create_task(job(), snapshot=snap, name="job") == "queued"
        with context.scope(request_id="now"):
            assert await context.create_task(job()) == "now"

    def test_wrap_captures_now(self) -> None:
        with context.scope(request_id="cb"):
            callback = context.wrap(read)
        assert callback("request_id") == "cb"
        assert "wrap(" in repr(callback)
        explicit = context.wrap(read, snapshot=context.Snapshot({"request_id": "given"}))
        assert explicit("request_id") == "given"

    def test_pickles_values_only(self) -> None:
        with context.scope(request_id="p", n=3):
            snap = context.snapshot()
            bound = context.wrap(read)
        copy = pickle.loads(pickle.dumps(snap))
        assert dict(copy) == {"request_id": "p", "n": 3}
        assert copy.detached
        assert pickle.loads(pickle.dumps(bound))("n") == 3

    @given(st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=5))
    def test_json_round_trip(self, values: dict[str, object]) -> None:
        snap = context.Snapshot(values)
        assert dict(context.Snapshot.from_json(snap.to_json())) == values

    def test_to_dict_leaves_out_or_rejects_unserializable(self) -> None:
        snap = context.Snapshot({"ok": 1, "obj": object(), "nan": float("nan")})
        assert snap.to_dict() == {"ok": 1}
        with pytest.raises(ValidationError) as info:
            snap.to_dict(strict=True)
        assert sorted(info.value.paths) == ["/nan", "/obj"]

    def test_from_json_rejects_garbage(self) -> None:
        with pytest.raises(ValidationError, match="not valid JSON"):
            context.Snapshot.from_json("{nope")
        with pytest.raises(ValidationError, match="JSON object"):
            context.Snapshot.from_json("[1]")

    def test_rejects_non_string_keys(self) -> None:
        with pytest.raises(InvalidArgumentError):
            context.Snapshot({1: "x"})  # type: ignore[dict-item]

    def test_env_round_trip_into_a_subprocess(self) -> None:
        with context.scope(request_id="from-parent"):
            env = context.inject_env()
        code = (
            "from pepperpy import context\n"
            "snap = context.extract_env()\n"
            "print(context.run_in(snap, context.get, 'request_id'))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "from-parent"
        assert dict(context.extract_env({})) == {}
        target: dict[str, str] = {}
        with context.scope(a=1):
            context.inject_env(target)
        assert dict(context.extract_env(target)) == {"a": 1}
