"""The pytest plugin: fixtures are available in a fresh pytest run (pytester)."""

from __future__ import annotations


def test_plugin_fixtures_in_a_fresh_session(pytester):
    """manual_clock, virtual_clock and pepperpy_data_dir work in an inner pytest run."""
    pytester.makepyfile(
        """
        import asyncio, os

        def test_manual(manual_clock):
            manual_clock.advance_sync(3)
            assert manual_clock.monotonic() == 3

        def test_virtual(virtual_clock):
            async def main():
                await asyncio.sleep(86400)
                return virtual_clock.monotonic()
            assert virtual_clock.run(main()) == 86400

        def test_data_dir(pepperpy_data_dir):
            assert os.environ["PEPPERPY_DATA_DIR"] == str(pepperpy_data_dir)
            assert pepperpy_data_dir.is_dir()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_http_server_fixture(pytester):
    """http_server serves canned routes on 127.0.0.1 and records requests."""
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        """
        import aiohttp

        async def test_routes(http_server):
            http_server.route("GET", "/users/1", json={"id": 1})
            http_server.route("POST", "/retry", sequence=[(503, b"busy"), (200, {"ok": True})])
            async with aiohttp.ClientSession() as session:
                async with session.get(http_server.url + "/users/1") as resp:
                    assert resp.status == 200 and await resp.json() == {"id": 1}
                async with session.post(http_server.url + "/retry", json={"a": 1}) as resp:
                    assert resp.status == 503
                async with session.post(http_server.url + "/retry") as resp:
                    assert resp.status == 200
                async with session.get(http_server.url + "/missing") as resp:
                    assert resp.status == 404
            assert http_server.url.startswith("http://127.0.0.1:")
            paths = [r.path for r in http_server.requests]
            assert paths == ["/users/1", "/retry", "/retry", "/missing"]
            assert http_server.requests[1].json() == {"a": 1}
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
