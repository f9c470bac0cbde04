"""Tests for PluginManager: typed sync/async calls, ordering, wrappers, isolation, lifecycle."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, Callable, Generator
from pathlib import Path
from typing import Any, Protocol

import pluggy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pepperpy.core.exceptions import InvalidArgumentError, PluginError, StartupError
from pepperpy.plugin import (
    IncompatiblePluginError,
    PluginHookError,
    PluginLoadError,
    PluginManager,
    PluginNotFoundError,
    PluginValidationError,
    PluginWarning,
    hookimpl,
    hookspec,
)

MakeDist = Callable[..., Path]


class AppSpec(Protocol):
    @hookspec
    def greet(self, name: str) -> str: ...

    @hookspec(firstresult=True)
    def pick(self, options: list[str]) -> str: ...

    @hookspec
    async def fetch(self, key: str) -> str: ...

    @hookspec(firstresult=True)
    async def resolve(self, key: str) -> str: ...


class Hello:
    @hookimpl
    def greet(self, name: str) -> str:
        return f"hello {name}"

    @hookimpl
    async def fetch(self, key: str) -> str:
        return f"hello:{key}"


class Hi:
    @hookimpl
    def greet(self, name: str) -> str:
        return f"hi {name}"

    @hookimpl
    def fetch(self, key: str) -> str:  # a sync implementation of an async hook is fine
        return f"hi:{key}"


class Broken:
    @hookimpl
    def greet(self, name: str) -> str:
        raise RuntimeError("greet exploded")

    @hookimpl
    async def fetch(self, key: str) -> str:
        raise RuntimeError("fetch exploded")


def make(**kwargs: Any) -> PluginManager:
    return PluginManager([AppSpec], **kwargs)


class TestCalls:
    def test_sync_call_collects_results_last_registered_first(self) -> None:
        """call() returns every result in pluggy order (LIFO)."""
        pm = make()
        pm.register(Hello())
        pm.register(Hi())
        assert pm.call(AppSpec.greet, name="ada") == ["hi ada", "hello ada"]

    def test_positional_arguments_map_to_spec_names(self) -> None:
        """Positional arguments are bound to the spec's parameter names."""
        pm = make()
        pm.register(Hello())
        assert pm.call(AppSpec.greet, "bob") == ["hello bob"]

    def test_firstresult_stops_at_first_non_none(self) -> None:
        """call_first() returns the first non-None result and skips the rest."""
        seen: list[str] = []

        class A:
            @hookimpl
            def pick(self, options: list[str]) -> str | None:
                seen.append("a")
                return options[0]

        class B:
            @hookimpl
            def pick(self, options: list[str]) -> str | None:
                seen.append("b")
                return None

        pm = make()
        pm.register(A())
        pm.register(B())
        assert pm.call_first(AppSpec.pick, options=["x", "y"]) == "x"
        assert seen == ["b", "a"]
        assert None is make().call_first(AppSpec.pick, options=[])

    async def test_async_call_awaits_every_implementation(self) -> None:
        """acall() awaits async implementations and accepts sync ones, in pluggy order."""
        pm = make()
        pm.register(Hello())
        pm.register(Hi())
        assert await pm.acall(AppSpec.fetch, key="k") == ["hi:k", "hello:k"]

    async def test_async_firstresult(self) -> None:
        """acall_first() stops at the first non-None awaited result."""
        calls: list[str] = []

        class Slow:
            @hookimpl(trylast=True)
            async def resolve(self, key: str) -> str:
                calls.append("slow")
                return "slow"

        class Fast:
            @hookimpl(tryfirst=True)
            async def resolve(self, key: str) -> str | None:
                calls.append("fast")
                return None if key == "skip" else "fast"

        pm = make()
        pm.register(Fast())
        pm.register(Slow())
        assert await pm.acall_first(AppSpec.resolve, key="k") == "fast"
        assert await pm.acall_first(AppSpec.resolve, key="skip") == "slow"
        assert calls == ["fast", "fast", "slow"]

    async def test_wrong_call_style_is_refused(self) -> None:
        """Calling a hook with the wrong method says which one to use."""
        pm = make()
        with pytest.raises(InvalidArgumentError, match=r"acall\(\)"):
            pm.call(AppSpec.fetch, key="k")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError, match=r"call_first\(\)"):
            pm.call(AppSpec.pick, options=[])
        with pytest.raises(InvalidArgumentError, match=r"call\(\)"):
            await pm.acall_first(AppSpec.fetch, key="k")

    def test_unknown_hook_and_bad_arguments(self) -> None:
        """A method that is not a spec, or a missing argument, is a clear error."""
        pm = make()
        pm.register(Hello())
        with pytest.raises(InvalidArgumentError, match="not a hook specification"):
            pm.call(Hello.greet, name="x")
        with pytest.raises(InvalidArgumentError, match=r"missing argument .name."):
            pm.call(AppSpec.greet)  # type: ignore[call-arg]
        with pytest.raises(InvalidArgumentError, match="twice"):
            pm.call(AppSpec.greet, "a", name="b")  # type: ignore[misc]

    def test_specs_are_listed(self) -> None:
        """hooks lists every specified hook."""
        assert make().hooks == ("fetch", "greet", "pick", "resolve")


ORDER_FLAGS = st.lists(
    st.sampled_from(["plain", "tryfirst", "trylast", "wrapper", "wrapper-tryfirst", "none"]),
    max_size=7,
)


def _impls(flags: list[str], log: list[str]) -> list[object]:
    plugins: list[object] = []
    for index, flag in enumerate(flags):
        opts = {"tryfirst": flag.endswith("tryfirst"), "trylast": flag == "trylast"}
        result = None if flag == "none" else str(index)

        if flag.startswith("wrapper"):

            class W:
                i = index

                @hookimpl(wrapper=True, **opts)
                def greet(self, name: str) -> Generator[None, list[str], list[str]]:
                    log.append(f"w{self.i}>")
                    inner = yield
                    log.append(f"<w{self.i}")
                    return [*inner, f"w{self.i}"]

                @hookimpl(wrapper=True, **opts)
                def fetch(self, key: str) -> Generator[None, list[str], list[str]]:
                    log.append(f"w{self.i}>")
                    inner = yield
                    log.append(f"<w{self.i}")
                    return [*inner, f"w{self.i}"]

            plugins.append(W())
            continue

        class P:
            i = index
            value = result

            @hookimpl(**opts)
            async def fetch(self, key: str) -> str | None:
                log.append(str(self.i))
                return self.value

            @hookimpl(**opts)
            def greet(self, name: str) -> str | None:
                log.append(str(self.i))
                return self.value

        plugins.append(P())
    return plugins


@given(ORDER_FLAGS)
@settings(max_examples=60, deadline=None)
async def test_order_and_results_match_pluggy(flags: list[str]) -> None:
    """Sync and async hooks run implementations and wrappers exactly as raw pluggy does."""
    raw_log: list[str] = []
    raw = pluggy.PluginManager("pepperpy")
    raw.add_hookspecs(AppSpec)
    for plugin in _impls(flags, raw_log):
        raw.register(plugin)
    raw_results = raw.hook.greet(name="x")

    log: list[str] = []
    pm = make()
    for n, plugin in enumerate(_impls(flags, log)):
        pm.register(plugin, name=f"p{n}")
    assert pm.call(AppSpec.greet, name="x") == raw_results
    assert log == raw_log
    log.clear()
    assert await pm.acall(AppSpec.fetch, key="x") == raw_results
    assert log == raw_log


class TestWrappers:
    def test_sync_wrapper_sees_and_replaces_result(self) -> None:
        """pluggy new-style wrappers work on sync hooks."""

        class Wrap:
            @hookimpl(wrapper=True)
            def greet(self, name: str) -> Generator[None, list[str], list[str]]:
                result = yield
                return [r.upper() for r in result]

        pm = make()
        pm.register(Hello())
        pm.register(Wrap())
        assert pm.call(AppSpec.greet, name="a") == ["HELLO A"]

    async def test_async_wrapper_passes_result_through(self) -> None:
        """An async generator wrapper that yields once observes the result unchanged."""
        seen: list[object] = []

        class Observe:
            @hookimpl(wrapper=True)
            async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
                seen.append("before")
                result = yield
                seen.append(result)

        pm = make()
        pm.register(Hello())
        pm.register(Observe())
        assert await pm.acall(AppSpec.fetch, key="k") == ["hello:k"]
        assert seen == ["before", ["hello:k"]]

    async def test_async_wrapper_replaces_result_with_second_yield(self) -> None:
        """A second yield replaces the result; wrappers nest outermost-last-registered."""

        class Upper:
            @hookimpl(wrapper=True)
            async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
                result = yield
                yield [r.upper() for r in result]

        class Count:
            @hookimpl(wrapper=True)
            def fetch(self, key: str) -> Generator[None, Any, Any]:
                result = yield
                return [*result, len(result)]

        pm = make()
        pm.register(Hello())
        pm.register(Upper())
        pm.register(Count())
        assert await pm.acall(AppSpec.fetch, key="k") == ["HELLO:K", 1]

    async def test_async_wrapper_sees_exception_and_can_recover(self) -> None:
        """An exception from inside reaches the wrapper, which may yield a replacement."""

        class Failing:
            @hookimpl
            async def resolve(self, key: str) -> str:
                raise KeyError(key)

        class Recover:
            @hookimpl(wrapper=True)
            async def resolve(self, key: str) -> AsyncGenerator[Any, Any]:
                try:
                    yield
                except PluginHookError as exc:  # policy 'raise' wraps the plugin's KeyError
                    yield f"recovered from {type(exc.__cause__).__name__}"

        pm = make(policy="raise")
        pm.register(Failing())
        with pytest.raises(PluginHookError):
            await pm.acall_first(AppSpec.resolve, key="k")
        pm.register(Recover())
        assert await pm.acall_first(AppSpec.resolve, key="k") == "recovered from KeyError"

    async def test_wrapper_that_never_yields_is_reported(self) -> None:
        """A wrapper that does not yield is a validation error naming it."""

        class Bad:
            @hookimpl(wrapper=True)
            async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
                if key == "never":
                    return
                yield

        pm = make()
        pm.register(Bad())
        with pytest.raises(PluginValidationError, match="did not yield"):
            await pm.acall(AppSpec.fetch, key="never")


class TestIsolation:
    def test_skip_policy_drops_failing_result_and_records_it(self) -> None:
        """With 'skip' a raising implementation is recorded and the others still answer."""
        pm = make(policy="skip")
        pm.register(Hello())
        pm.register(Broken(), distribution="broken-dist")
        assert pm.call(AppSpec.greet, name="a") == ["hello a"]
        (failure,) = pm.failures
        assert (
            failure.plugin,
            failure.distribution,
            failure.phase,
            failure.hook,
        ) == ("Broken", "broken-dist", "hook", "greet")
        assert "greet exploded" in failure.describe()

    async def test_warn_policy_warns_with_plugin_and_distribution(self) -> None:
        """With 'warn' the failure also emits a PluginWarning naming plugin and distribution."""
        pm = make(policy="warn")
        pm.register(Hello())
        pm.register(Broken(), name="bad", distribution="bad-dist")
        with pytest.warns(PluginWarning, match=r"'bad' \(distribution 'bad-dist'\).*fetch"):
            assert await pm.acall(AppSpec.fetch, key="k") == ["hello:k"]

    async def test_raise_policy_raises_plugin_hook_error(self) -> None:
        """With 'raise' the error names the plugin and chains the original exception."""
        pm = make(policy="raise")
        pm.register(Broken(), name="bad", distribution="bad-dist")
        with pytest.raises(PluginHookError, match="greet exploded") as caught:
            pm.call(AppSpec.greet, name="a")
        assert (caught.value.context) == {
            "plugin": "bad",
            "distribution": "bad-dist",
            "hook": "greet",
        }
        assert isinstance(caught.value.__cause__, RuntimeError)
        with pytest.raises(PluginHookError, match="fetch exploded"):
            await pm.acall(AppSpec.fetch, key="k")

    async def test_cancellation_is_not_swallowed(self) -> None:
        """BaseExceptions such as cancellation pass through every policy."""
        import asyncio

        class Cancel:
            @hookimpl
            async def fetch(self, key: str) -> str:
                raise asyncio.CancelledError

        pm = make(policy="skip")
        pm.register(Cancel())
        with pytest.raises(asyncio.CancelledError):
            await pm.acall(AppSpec.fetch, key="k")
        assert pm.failures == ()

    def test_unknown_policy_is_refused(self) -> None:
        """Only skip, warn and raise exist."""
        with pytest.raises(InvalidArgumentError, match="policy"):
            make(policy="ignore")


class TestRegistration:
    def test_incompatible_plugin_is_refused_with_clear_error(self) -> None:
        """A plugin outside the host API range is refused, naming both versions."""

        class Old:
            requires_api = ">=1.0,<2"

            @hookimpl
            def greet(self, name: str) -> str:
                return "old"

        pm = make(api_version="2.1")
        with pytest.raises(IncompatiblePluginError, match=r"requires host API >=1.0,<2.*2\.1"):
            pm.register(Old(), distribution="old-dist")
        assert len(pm) == 0
        ok = make(api_version="1.7")
        assert ok.register(Old) == "Old"
        assert ok.plugins[0].requires_api == ">=1.0,<2"

    def test_unreadable_range_is_a_validation_error(self) -> None:
        """A garbage requires_api is reported as invalid."""

        class Odd:
            requires_api = "around 1"

        with pytest.raises(PluginValidationError, match="requires_api"):
            make(api_version="1.0").register(Odd())

    def test_async_impl_for_sync_hook_is_refused(self) -> None:
        """A coroutine implementing a sync hook would return an un-awaited coroutine: refused."""

        class Wrong:
            @hookimpl
            async def greet(self, name: str) -> str:
                return name

        pm = make()
        with pytest.raises(PluginValidationError, match="synchronous hook 'greet'"):
            pm.register(Wrong())
        assert len(pm) == 0
        assert pm.call(AppSpec.greet, name="x") == []

    def test_unknown_hook_is_refused_unless_optional(self) -> None:
        """A typo in a hook name is caught at registration."""

        class Typo:
            @hookimpl
            def greeet(self, name: str) -> str:
                return name

        class Optional:
            @hookimpl(optionalhook=True)
            def maybe_later(self) -> None:
                return None

        pm = make()
        with pytest.raises(PluginValidationError, match="'greeet', which is not a known hook"):
            pm.register(Typo())
        pm.register(Optional())

    def test_bad_signature_is_refused(self) -> None:
        """pluggy's argument validation is reported as PluginValidationError."""

        class Extra:
            @hookimpl
            def greet(self, name: str, mood: str) -> str:
                return name

        with pytest.raises(PluginValidationError, match="Extra"):
            make().register(Extra())

    def test_duplicate_names_and_unregister(self) -> None:
        """Names are unique; unregister removes the plugin's implementations."""
        pm = make()
        pm.register(Hello(), name="h")
        with pytest.raises(PluginError, match="already registered"):
            pm.register(Hi(), name="h")
        assert "h" in pm
        assert isinstance(pm.unregister("h"), Hello)
        assert pm.call(AppSpec.greet, name="x") == []
        with pytest.raises(PluginNotFoundError):
            pm.get_plugin("h")

    def test_spec_errors(self) -> None:
        """Spec classes need at least one hookspec and names are unique per manager."""

        class Empty:
            pass

        with pytest.raises(InvalidArgumentError, match="no hook specification"):
            PluginManager([Empty])
        with pytest.raises(InvalidArgumentError):
            PluginManager([AppSpec, AppSpec])


class TestLifecycle:
    async def test_start_in_order_stop_in_reverse(self) -> None:
        """start/stop callables run in registration order and reverse."""
        log: list[str] = []

        def plugin(name: str, *, sync: bool) -> object:
            class P:
                plugin_name = name

                if sync:

                    def start(self) -> None:
                        log.append(f"start {name}")

                    def stop(self) -> None:
                        log.append(f"stop {name}")

                else:

                    async def start(self) -> None:
                        log.append(f"start {name}")

                    async def stop(self) -> None:
                        log.append(f"stop {name}")

            return P()

        pm = make()
        for name, sync in (("a", True), ("b", False), ("c", True)):
            pm.register(plugin(name, sync=sync))
        pm.register(Hello())  # no start/stop: ignored
        async with pm:
            assert log == ["start a", "start b", "start c"]
        assert log[3:] == ["stop c", "stop b", "stop a"]

    async def test_failed_start_under_raise_stops_started_plugins(self) -> None:
        """With 'raise' a failing start aborts startup and stops the plugins already started."""
        log: list[str] = []

        class Good:
            def start(self) -> None:
                log.append("start good")

            def stop(self) -> None:
                log.append("stop good")

        class Bad:
            def start(self) -> None:
                raise OSError("port in use")

            def stop(self) -> None:
                log.append("stop bad")

        pm = make(policy="raise")
        pm.register(Good())
        pm.register(Bad(), distribution="bad-dist")
        with pytest.raises(StartupError) as caught:
            await pm.start()
        assert "port in use" in str(caught.value.__cause__)
        assert log == ["start good", "stop good"]

    async def test_failed_start_under_skip_keeps_going(self) -> None:
        """With 'skip' a failing start is recorded and that plugin is not stopped later."""
        log: list[str] = []

        class Bad:
            def start(self) -> None:
                raise OSError("nope")

            def stop(self) -> None:
                log.append("stop bad")

        class Good:
            def start(self) -> None:
                log.append("start good")

            def stop(self) -> None:
                log.append("stop good")

        pm = make(policy="skip")
        pm.register(Bad())
        pm.register(Good())
        await pm.start()
        await pm.stop()
        assert log == ["start good", "stop good"]
        assert [f.phase for f in pm.failures] == ["start"]


class TestEntryPointsAndPaths:
    def test_third_party_plugin_discovered_and_loaded(self, make_dist: MakeDist) -> None:
        """A plugin in a separate distribution is found through its entry point and called."""
        make_dist(
            "acme-hello",
            version="0.4.0",
            entry_points={"hostapp.plugins": {"acme": "acme_hello:AcmePlugin"}},
            modules={
                "acme_hello": """
                    from pepperpy.plugin import hookimpl

                    class AcmePlugin:
                        requires_api = ">=1.0,<2"

                        @hookimpl
                        def greet(self, name):
                            return f"acme greets {name}"
                """
            },
        )
        pm = make(entry_point_group="hostapp.plugins", api_version="1.3")
        assert [i.name for i in pm.available()] == ["acme"]
        assert "acme_hello" not in sys.modules
        assert pm.load_entry_points() == ["acme"]
        assert pm.call(AppSpec.greet, name="ada") == ["acme greets ada"]
        (record,) = pm.plugins
        assert (
            record.name,
            record.distribution,
            record.version,
            record.source,
        ) == ("acme", "acme-hello", "0.4.0", "entry point")
        assert pm.load_entry_points() == []  # already registered

    def test_broken_and_incompatible_entry_points_are_isolated(self, make_dist: MakeDist) -> None:
        """Under 'warn' bad plugins are reported with their distribution; good ones load."""
        make_dist(
            "mixed-dist",
            entry_points={
                "mixedapp.plugins": {
                    "boom": "mixed_boom:plugin",
                    "future": "mixed_future:plugin",
                    "fine": "mixed_fine:plugin",
                }
            },
            modules={
                "mixed_boom": "raise ImportError('missing dependency zzz')\n",
                "mixed_future": "class P:\n    requires_api = '>=9'\nplugin = P()\n",
                "mixed_fine": GREETER_SRC,
            },
        )
        pm = make(entry_point_group="mixedapp.plugins", api_version="1.0", policy="warn")
        with pytest.warns(PluginWarning) as warned:
            assert pm.load_entry_points() == ["fine"]
        text = " ".join(str(w.message) for w in warned)
        assert "'boom' (distribution 'mixed-dist')" in text
        assert "missing dependency zzz" in text
        assert "'future'" in text
        assert {("boom", "load"), ("future", "register")} == {
            (f.plugin, f.phase) for f in pm.failures
        }
        strict = make(entry_point_group="mixedapp.plugins", api_version="1.0", policy="raise")
        with pytest.raises(PluginLoadError, match="mixed-dist"):
            strict.load_entry_points("boom")
        with pytest.raises(IncompatiblePluginError, match="mixed-dist"):
            strict.load_entry_points("future")
        with pytest.raises(PluginNotFoundError, match="nope"):
            strict.load_entry_points("nope")
        assert strict.load_entry_points(exclude=["boom", "future"]) == ["fine"]

    def test_no_group_configured(self) -> None:
        """available() needs an entry point group."""
        with pytest.raises(InvalidArgumentError, match="entry_point_group"):
            make().available()

    def test_load_path_and_directory(self, tmp_path: Path) -> None:
        """Plugins load from a file, a package directory and a folder of plugins."""
        folder = tmp_path / "plugins"
        folder.mkdir()
        (folder / "alpha.py").write_text(GREETER_SRC)
        pkg = folder / "beta"
        pkg.mkdir()
        (pkg / "__init__.py").write_text(GREETER_SRC.replace("hello", "beta"))
        (folder / "_private.py").write_text("raise SystemExit('must not run')\n")
        (folder / "notes.txt").write_text("ignored")
        pm = make()
        assert pm.load_directory(folder) == ["alpha", "beta"]
        assert pm.call(AppSpec.greet, name="x") == ["beta x", "hello x"]
        single = make()
        assert single.load_path(folder / "alpha.py") == "alpha"
        assert single.load_path("json") == "json"

    def test_load_path_failures_follow_policy(self, tmp_path: Path) -> None:
        """A failing file is skipped under 'skip' and raised under 'raise'."""
        bad = tmp_path / "bad.py"
        bad.write_text("1 / 0\n")
        pm = make(policy="skip")
        assert None is pm.load_path(bad)
        assert None is pm.load_path(tmp_path / "missing.py")
        assert None is pm.load_path("no_such_module_xyz")
        assert [f.plugin for f in pm.failures] == ["bad", "missing", "no_such_module_xyz"]
        with pytest.raises(PluginLoadError, match="ZeroDivisionError"):
            make(policy="raise").load_path(bad)
        with pytest.raises(PluginLoadError, match="does not exist"):
            make().load_directory(tmp_path / "nowhere")


GREETER_SRC = """
from pepperpy.plugin import hookimpl

@hookimpl
def greet(name):
    return f"hello {name}"

plugin = __import__("sys").modules[__name__]
"""


class MathSpec(Protocol):
    @hookspec
    def combine(self, a: int, b: int) -> int: ...

    @hookspec
    async def acombine(self, a: int, b: int) -> int: ...


class TestArguments:
    def test_implementations_take_any_subset_of_arguments(self) -> None:
        """Implementations may accept all, some or none of the spec's arguments."""

        class Both:
            @hookimpl
            def combine(self, b: int, a: int) -> int:
                return a * 10 + b

        class OnlyB:
            @hookimpl
            def combine(self, b: int) -> int:
                return b

        class Nothing:
            @hookimpl
            def combine(self) -> int:
                return 0

        pm = PluginManager([MathSpec])
        for plugin in (Both(), OnlyB(), Nothing()):
            pm.register(plugin)
        assert pm.call(MathSpec.combine, 1, 2) == [0, 2, 12]
        assert pm.call(MathSpec.combine, a=3, b=4) == [0, 4, 34]
        with pytest.raises(InvalidArgumentError, match="unknown argument 'c'"):
            pm.call(MathSpec.combine, a=1, b=2, c=3)  # type: ignore[call-arg]
        with pytest.raises(InvalidArgumentError, match="takes 2 arguments"):
            pm.call(MathSpec.combine, 1, 2, 3)  # type: ignore[call-arg]

    async def test_sync_implementation_returning_awaitable(self) -> None:
        """A plain function returning an awaitable in an async hook is awaited."""

        async def later(value: int) -> int:
            return value

        class Deferred:
            @hookimpl
            def acombine(self, a: int, b: int) -> Any:
                return later(a + b)

        class Direct:
            @hookimpl
            async def acombine(self, a: int) -> int:
                return a

        pm = PluginManager([MathSpec])
        pm.register(Deferred())
        pm.register(Direct())
        assert await pm.acall(MathSpec.acombine, a=1, b=2) == [1, 3]

    async def test_plan_follows_registration_changes(self) -> None:
        """Registering and unregistering between calls is always reflected."""
        pm = make()
        assert pm.call(AppSpec.greet, name="x") == []
        pm.register(Hello(), name="h")
        assert pm.call(AppSpec.greet, name="x") == ["hello x"]
        assert await pm.acall(AppSpec.fetch, key="k") == ["hello:k"]
        pm.register(Hi(), name="hi")
        assert pm.call(AppSpec.greet, name="x") == ["hi x", "hello x"]
        pm.unregister("h")
        assert pm.call(AppSpec.greet, name="x") == ["hi x"]
        assert await pm.acall(AppSpec.fetch, key="k") == ["hi:k"]


class TestBlocking:
    def test_block_unregisters_and_prevents_loading(
        self, make_dist: MakeDist, tmp_path: Path
    ) -> None:
        """A blocked name is unregistered, skipped by discovery and refused by register."""
        make_dist(
            "blocky",
            entry_points={"blockapp.plugins": {"g": "blocky_mod:plugin"}},
            modules={"blocky_mod": GREETER_SRC},
        )
        pm = make(entry_point_group="blockapp.plugins")
        assert pm.load_entry_points() == ["g"]
        pm.block("g")
        assert pm.is_blocked("g")
        assert "g" not in pm
        assert pm.load_entry_points() == []
        with pytest.raises(PluginError, match="blocked"):
            pm.register(Hello(), name="g")
        (tmp_path / "g.py").write_text(GREETER_SRC)
        assert pm.load_path(tmp_path / "g.py") is None
        assert pm.failures == ()
        pm.unblock("g")
        assert pm.load_entry_points() == ["g"]


class Boom:
    @hookimpl
    async def fetch(self, key: str) -> str:
        raise KeyError(key)

    @hookimpl
    async def resolve(self, key: str) -> str:
        raise KeyError(key)

    @hookimpl
    def greet(self, name: str) -> str:
        raise KeyError(name)


class TestWrapperEdgeCases:
    async def test_async_wrapper_swallowing_without_replacement(self) -> None:
        """Finishing without a second yield after an exception suppresses it: [] or None."""

        class Swallow:
            @hookimpl(wrapper=True)
            async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
                try:
                    yield
                except PluginHookError:
                    return

            @hookimpl(wrapper=True)
            async def resolve(self, key: str) -> AsyncGenerator[Any, Any]:
                try:
                    yield
                except PluginHookError:
                    return

        pm = make(policy="raise")
        pm.register(Boom())
        pm.register(Swallow())
        assert await pm.acall(AppSpec.fetch, key="k") == []
        assert await pm.acall_first(AppSpec.resolve, key="k") is None

    async def test_async_wrapper_errors(self) -> None:
        """A wrapper raising after the yield replaces the result; a third yield is invalid."""

        class Raises:
            @hookimpl(wrapper=True)
            async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
                yield
                raise ValueError("post-processing failed")

        class Chatty:
            @hookimpl(wrapper=True)
            async def fetch(self, key: str) -> AsyncGenerator[Any, Any]:
                yield
                yield ["replaced"]
                yield ["again"]

        pm = make()
        pm.register(Hello())
        pm.register(Raises())
        with pytest.raises(ValueError, match="post-processing failed"):
            await pm.acall(AppSpec.fetch, key="k")
        other = make()
        other.register(Hello())
        other.register(Chatty())
        with pytest.raises(PluginValidationError, match="more than twice"):
            await other.acall(AppSpec.fetch, key="k")

    async def test_generator_wrapper_in_async_hook(self) -> None:
        """pluggy-style generator wrappers see exceptions and may recover; two yields fail."""

        class Recover:
            @hookimpl(wrapper=True)
            def fetch(self, key: str) -> Generator[None, Any, Any]:
                try:
                    return (yield)
                except PluginHookError:
                    return ["recovered"]

        class TwoYields:
            @hookimpl(wrapper=True)
            def fetch(self, key: str) -> Generator[None, Any, Any]:
                yield
                yield

        pm = make(policy="raise")
        pm.register(Boom())
        pm.register(Recover())
        assert await pm.acall(AppSpec.fetch, key="k") == ["recovered"]
        other = make()
        other.register(Hello())
        other.register(TwoYields())
        with pytest.raises(PluginValidationError, match="second yield"):
            await other.acall(AppSpec.fetch, key="k")

    def test_sync_hook_with_wrapper_still_isolates(self) -> None:
        """With a wrapper present (pluggy's own call loop) failures are still isolated."""
        seen: list[object] = []

        class Observe:
            @hookimpl(wrapper=True)
            def greet(self, name: str) -> Generator[None, Any, Any]:
                result = yield
                seen.append(result)
                return result

            @hookimpl(wrapper=True)
            def pick(self, options: list[str]) -> Generator[None, Any, Any]:
                return (yield)

        class First:
            @hookimpl
            def pick(self, options: list[str]) -> str:
                return options[-1]

        pm = make(policy="skip")
        pm.register(Hello())
        pm.register(Boom())
        pm.register(Observe())
        pm.register(First())
        assert pm.call(AppSpec.greet, name="a") == ["hello a"]
        assert seen == [["hello a"]]
        assert [f.hook for f in pm.failures] == ["greet"]
        assert pm.call_first(AppSpec.pick, options=["x", "y"]) == "y"

    async def test_stop_failures(self) -> None:
        """Every plugin is stopped; under 'raise' the first stop failure is raised after."""
        log: list[str] = []

        class Fails:
            plugin_name = "fails"

            async def start(self) -> None:
                log.append("start fails")

            async def stop(self) -> None:
                raise OSError("flush failed")

        class Fine:
            def start(self) -> None:
                log.append("start fine")

            def stop(self) -> None:
                log.append("stop fine")

        strict = make(policy="raise")
        strict.register(Fine())
        strict.register(Fails())
        await strict.start()
        with pytest.raises(PluginError, match=r"'fails'.*flush failed"):
            await strict.stop()
        assert log == ["start fine", "start fails", "stop fine"]
        lenient = make(policy="warn")
        lenient.register(Fails())
        await lenient.start()
        with pytest.warns(PluginWarning, match="flush failed"):
            await lenient.stop()
        assert [f.phase for f in lenient.failures] == ["stop"]
