from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pepperpy import context
from pepperpy.core.exceptions import ConflictError, InvalidArgumentError, NotFoundError


def in_fresh(fn, *args):  # type: ignore[no-untyped-def]
    return contextvars.Context().run(fn, *args)


class TestBind:
    def test_bind_get_current(self) -> None:
        def body() -> None:
            assert context.get("user") is None
            assert context.get("user", "nobody") == "nobody"
            context.bind(user="ada", tenant="acme")
            assert context.get("user") == "ada"
            assert dict(context.current()) == {"user": "ada", "tenant": "acme"}

        in_fresh(body)

    def test_current_is_a_frozen_view(self) -> None:
        def body() -> None:
            context.bind(a=1)
            view = context.current()
            context.bind(a=2, b=3)
            assert dict(view) == {"a": 1}
            with pytest.raises(TypeError):
                view["a"] = 5  # type: ignore[index]

        in_fresh(body)

    def test_unbind_and_clear(self) -> None:
        def body() -> None:
            context.bind(a=1, b=2, c=3)
            context.unbind("a", "missing")
            assert dict(context.current()) == {"b": 2, "c": 3}
            context.clear()
            assert dict(context.current()) == {}
            context.bind()  # no-op
            assert dict(context.current()) == {}

        in_fresh(body)

    async def test_bind_in_task_never_reaches_parent_or_siblings(self) -> None:
        context.bind(shared="parent")
        seen: dict[str, object] = {}
        gate = asyncio.Event()

        async def child(name: str) -> None:
            context.bind(who=name, shared=name)
            await gate.wait()
            seen[name] = (context.get("who"), context.get("shared"))

        tasks = [asyncio.create_task(child(f"t{i}")) for i in range(5)]
        await asyncio.sleep(0)
        gate.set()
        await asyncio.gather(*tasks)
        assert seen == {f"t{i}": (f"t{i}", f"t{i}") for i in range(5)}
        assert context.get("who") is None
        assert context.get("shared") == "parent"


class TestScope:
    def test_sync_scope_restores_exactly(self) -> None:
        def body() -> None:
            context.bind(a=1)
            with context.scope(a=2, b=3) as values:
                assert dict(values) == {"a": 2, "b": 3}
                context.bind(c=4)  # a bind inside the scope belongs to the scope
                assert context.get("c") == 4
            assert dict(context.current()) == {"a": 1}

        in_fresh(body)

    def test_scope_restores_on_error(self) -> None:
        def body() -> None:
            with pytest.raises(RuntimeError), context.scope(x=1):
                raise RuntimeError("boom")
            assert context.get("x") is None

        in_fresh(body)

    async def test_async_scope(self) -> None:
        async with context.scope(request_id="r1"):
            assert context.get("request_id") == "r1"
            async with context.scope({"request_id": "r2"}, extra=1):
                assert context.get("request_id") == "r2"
                assert context.get("extra") == 1
            assert context.get("request_id") == "r1"
        assert context.get("request_id") is None

    def test_scope_accepts_mapping_and_snapshot(self) -> None:
        def body() -> None:
            with context.scope({"a": 1}, a=2, b=1):
                assert dict(context.current()) == {"a": 2, "b": 1}
            snap = context.Snapshot({"k": "v"})
            with context.scope(snap):
                assert context.get("k") == "v"

        in_fresh(body)

    def test_scope_rejects_bad_input(self) -> None:
        with pytest.raises(InvalidArgumentError, match="mapping"):
            context.scope(["a"])  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match="strings"):
            context.scope({1: "a"})  # type: ignore[dict-item]

    def test_scope_is_single_use_while_entered(self) -> None:
        def body() -> None:
            s = context.scope(a=1)
            with s, pytest.raises(InvalidArgumentError, match="already entered"), s:
                pass
            assert context.get("a") is None
            with s:  # can be reused after exit
                assert context.get("a") == 1
            assert "idle" in repr(s)

        in_fresh(body)

    def test_exit_without_enter_changes_nothing(self) -> None:
        """A scope never entered, or exited twice, leaves the context alone."""

        def body() -> None:
            context.bind(a=1)
            never = context.scope(a=2)
            never.__exit__(None, None, None)
            assert dict(context.current()) == {"a": 1}
            s = context.scope(a=3)
            with s:
                copy = contextvars.copy_context()  # s is the innermost scope there too
            # A second exit is a no-op, even in a context where s still looks open.
            copy.run(s.__exit__, None, None, None)
            assert copy.run(context.get, "a") == 3
            assert dict(context.current()) == {"a": 1}

        in_fresh(body)

    async def test_concurrent_scopes_are_isolated(self) -> None:
        async def handler(i: int) -> list[object]:
            seen = []
            async with context.scope(request_id=f"req-{i}"):
                for _ in range(5):
                    await asyncio.sleep(0)
                    seen.append(context.get("request_id"))
                    async with context.scope(step=i):
                        await asyncio.sleep(0)
                        seen.append(context.get("request_id"))
            seen.append(context.get("request_id"))
            return seen

        results = await asyncio.gather(*(handler(i) for i in range(20)))
        for i, seen in enumerate(results):
            assert seen[:-1] == [f"req-{i}"] * 10
            assert seen[-1] is None
        assert context.get("request_id") is None

    def test_out_of_order_exit_keeps_newer_scope(self) -> None:
        def body() -> None:
            def gen() -> Iterator[None]:
                with context.scope(x=1):
                    yield

            g = gen()
            next(g)
            with context.scope(y=2):
                g.close()  # exits x's scope while y's is still open
                assert dict(context.current()) == {"y": 2}
            assert dict(context.current()) == {}

        in_fresh(body)

    def test_out_of_order_exit_with_overlapping_keys(self) -> None:
        def body() -> None:
            context.bind(k="base")

            def gen() -> Iterator[None]:
                with context.scope(k="gen"):
                    yield

            g = gen()
            next(g)
            with context.scope(k="outer"):
                g.close()
                assert context.get("k") == "outer"
            assert context.get("k") == "base"

        in_fresh(body)

    def test_out_of_order_exit_with_equal_values(self) -> None:
        def body() -> None:
            def gen() -> Iterator[None]:
                with context.scope(a=1):
                    yield

            g = gen()
            next(g)
            with context.scope(a=1, b=2):
                g.close()
                assert dict(context.current()) == {"a": 1, "b": 2}
            assert dict(context.current()) == {}

        in_fresh(body)

    async def test_async_generator_closed_from_another_task(self) -> None:
        async def agen() -> AsyncIterator[str]:
            async with context.scope(stream="s1"):
                yield context.get("stream")
                yield "never"

        gen = agen()

        async def consume() -> str:
            return await gen.__anext__()

        assert await asyncio.create_task(consume()) == "s1"
        # Closing in another task (another Context) must neither raise nor
        # touch this task's context.
        context.bind(mine="yes")
        await gen.aclose()
        assert dict(context.current()) == {"mine": "yes"}

    def test_generator_finalised_by_gc_in_another_thread(self) -> None:
        errors: list[BaseException] = []

        def gen() -> Iterator[int]:
            with context.scope(g=1):
                yield 1
                yield 2

        holder: list[Iterator[int]] = []

        def start() -> None:
            g = gen()
            next(g)
            holder.append(g)

        starter = threading.Thread(target=start)
        starter.start()
        starter.join()

        def finalise() -> None:
            try:
                context.bind(t="x")
                holder.clear()
                gc.collect()
                assert dict(context.current()) == {"t": "x"}
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        t = threading.Thread(target=finalise)
        t.start()
        t.join()
        assert errors == []

    @given(
        st.lists(
            st.dictionaries(st.sampled_from("abcde"), st.integers(), max_size=3),
            max_size=6,
        )
    )
    def test_nested_scopes_restore_each_level(self, layers: list[dict[str, int]]) -> None:
        def body() -> None:
            expected_stack = [dict(context.current())]
            scopes = []
            for layer in layers:
                s = context.scope(layer)
                s.__enter__()
                scopes.append(s)
                expected_stack.append({**expected_stack[-1], **layer})
                assert dict(context.current()) == expected_stack[-1]
            for s in reversed(scopes):
                s.__exit__(None, None, None)
                expected_stack.pop()
                assert dict(context.current()) == expected_stack[-1]

        in_fresh(body)


class TestKey:
    def test_typed_key(self) -> None:
        tenant: context.Key[str] = context.Key("test_tenant", str)

        def body() -> None:
            assert tenant.get() is None
            with pytest.raises(NotFoundError, match="test_tenant"):
                tenant.require()
            with tenant.scope("acme"):
                assert tenant.get() == "acme"
                assert tenant.require() == "acme"
                assert context.get("test_tenant") == "acme"
            tenant.bind("other")
            assert context.current()["test_tenant"] == "other"
            with pytest.raises(InvalidArgumentError, match="must be str"):
                context.bind(test_tenant=42)
            with pytest.raises(InvalidArgumentError, match="must be str"):
                context.scope(test_tenant=42)

        in_fresh(body)
        assert repr(tenant) == "Key('test_tenant', str)"

    def test_default_and_conflicts(self) -> None:
        limit = context.Key("test_limit", int, default=10)
        assert in_fresh(limit.get) == 10
        assert context.Key("test_limit", int).name == "test_limit"  # same type: fine
        with pytest.raises(ConflictError, match="already declared"):
            context.Key("test_limit", str)
        with pytest.raises(InvalidArgumentError):
            context.Key("")


@given(
    st.lists(
        st.dictionaries(st.sampled_from("abc"), st.sampled_from([1, 2, "x", None]), max_size=3),
        min_size=1,
        max_size=6,
    ),
    st.randoms(use_true_random=False),
)
def test_any_exit_order_keeps_the_newest_open_values(
    layers: list[dict[str, object]], rnd: object
) -> None:
    """Scopes closed in any order (generators do that): every key shows the value of the
    newest scope still open that binds it, else the base value."""
    import random

    assert isinstance(rnd, random.Random)

    def body() -> None:
        context.bind(a="base")
        base = dict(context.current())
        opened = []
        for layer in layers:
            s = context.scope(layer)
            s.__enter__()
            opened.append((s, layer))
        order = list(range(len(opened)))
        rnd.shuffle(order)
        still_open = set(range(len(opened)))
        for index in order:
            opened[index][0].__exit__(None, None, None)
            still_open.discard(index)
            expected = dict(base)
            for i in sorted(still_open):
                expected.update(opened[i][1])
            assert dict(context.current()) == expected

    in_fresh(body)
