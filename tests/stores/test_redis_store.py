"""RedisStore against the real server: connection strings, key escaping, atomicity, recovery."""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import pytest

import reference_stores.redis.store
from conformance import CallTraceStoreTests
from conformance.report import format_text
from conformance.runner import run_kit
from reference_stores.redis import RedisStore
from reference_stores.redis.config import key_base, mask_password, parse_connection_string
from reference_stores.redis.keys import module_part
from tests.support.redis import (
    DEFAULT_URL,
    PrefixFactory,
    admin_client,
    require_server,
    run_prefixes,
    server_url,
    store_keys,
    with_params,
)
from tests.support.rows import func_named, trace
from tests.support.workload import distinct_traces
from tracestore import (
    CallTrace,
    CallTraceRow,
    CallTraceThunk,
    EncodeError,
    StoreConfigError,
    TraceStoreError,
)
from tracestore.loading import open_store


@pytest.fixture(scope="module")
def prefixes() -> Iterator[PrefixFactory]:
    yield from run_prefixes("store")


@pytest.fixture
def store(prefixes: PrefixFactory) -> Iterator[RedisStore]:
    with RedisStore.make_store(prefixes.connection_string()) as made:
        yield made


def as_rows(found: List[CallTraceThunk]) -> List[CallTraceRow]:
    assert all(isinstance(row, CallTraceRow) for row in found)
    return [row for row in found if isinstance(row, CallTraceRow)]


def qualnames(found: List[CallTraceThunk]) -> List[str]:
    return [row.qualname for row in as_rows(found)]


def local_function(a: int) -> str:
    return str(a)


def keys_of(made: RedisStore) -> List[bytes]:
    return store_keys(made._config.prefix + "}")


# -- connection strings (S14) ------------------------------------------------------------------


def test_S14_connection_string_names_server_db_and_prefix() -> None:
    config = parse_connection_string(
        "redis://me:s%40cret@db.example:6380/3?prefix=Traces-1&max_connections=4&timeout=2.5&client_name=a.b"
    )
    assert (config.host, config.port, config.db, config.prefix) == ("db.example", 6380, 3, "Traces-1")
    assert (config.username, config.password, config.ssl) == ("me", "s@cret", False)
    assert (config.max_connections, config.timeout, config.client_name) == (4, 2.5, "a.b")
    assert "s%40cret" not in config.display and "me:***@db.example" in config.display
    defaults = parse_connection_string("rediss://h")
    assert (defaults.port, defaults.db, defaults.prefix, defaults.ssl) == (6379, 0, "tracestore", True)
    assert key_base("Traces-1") == b"tracestore:{Traces-1}:"


def test_S14_passwords_are_masked() -> None:
    assert mask_password("redis://u:s3cret@h/0") == "redis://u:***@h/0"
    assert mask_password("redis://:s3cret@h/0") == "redis://:***@h/0"
    with pytest.raises(StoreConfigError) as info:
        RedisStore.make_store("redis://u:s3cret@127.0.0.1:1/0")
    assert "s3cret" not in str(info.value)
    with pytest.raises(StoreConfigError) as info:
        RedisStore.make_store("redis://h/0?password=s3cret")
    assert "s3cret" not in str(info.value) and "user info" in str(info.value)


@pytest.mark.parametrize(
    ("connection_string", "why"),
    [
        ("/tmp/traces.sqlite3", "not a Redis URL"),
        ("postgresql://h/db", "not a Redis URL"),
        ("redis://h:99999/0", "not a valid URL"),
        ("redis:///0", "no host"),
        ("redis://h/x", "database 'x' is not a number"),
        ("redis://h/0/1", "database '0/1' is not a number"),
        ("redis://h//0", "database '/0' is not a number"),
        ("redis://h/0?timeout=nan", "timeout='nan' must be a number"),
        ("redis://h/0?max_connections=1.5", "max_connections='1.5' must be a number"),
        ("redis://h/0?prefix=", "prefix='' is not a valid name"),
        ("redis://h/0?prefix=a:b", "prefix='a:b' is not a valid name"),
        ("redis://h/0?prefix=a*", "prefix='a*' is not a valid name"),
        ("redis://h/0?prefix=a%7D", "prefix='a}' is not a valid name"),
        ("redis://h/0?prefix=a%5B", "prefix='a[' is not a valid name"),
        ("redis://h/0?prefix=" + "a" * 101, "is not a valid name"),
        ("redis://h/0?prefix=a&prefix=b", "prefix is given twice"),
        ("redis://h/0?prefx=a", "unknown parameter 'prefx'"),
        ("redis://h/0?prefix", "prefix has no value"),
        ("redis://h/0?max_connections=0", "max_connections='0' must be a number"),
        ("redis://h/0?timeout=soon", "timeout='soon' must be a number"),
        ("redis://h/0?client_name=a%20b", "client_name='a b' is not a valid name"),
        ("redis://h/0#x", "no #fragment"),
    ],
)
def test_S14_bad_connection_strings(connection_string: str, why: str) -> None:
    with pytest.raises(StoreConfigError) as info:
        RedisStore.make_store(connection_string)
    assert why in str(info.value)
    assert repr(mask_password(connection_string)) in str(info.value)


def test_S14_unreachable_server_fails_fast() -> None:
    start = time.monotonic()
    with pytest.raises(StoreConfigError, match=r"'redis://127.0.0.1:1/0\?prefix=x': cannot connect"):
        RedisStore.make_store("redis://127.0.0.1:1/0?prefix=x")
    assert time.monotonic() - start < 10


def test_S14_database_out_of_range_is_named(prefixes: PrefixFactory) -> None:
    with pytest.raises(StoreConfigError, match="DB index is out of range"):
        RedisStore.make_store(with_params("redis://127.0.0.1:6379/99999", prefix=prefixes.new_name()))


def test_S14_make_store_writes_no_key(prefixes: PrefixFactory) -> None:
    made = RedisStore.make_store(prefixes.connection_string())
    with made:
        assert made.filter("m") == [] and made.list_modules() == []
        assert keys_of(made) == []


def test_S14_foreign_keys_under_the_prefix_are_refused_and_left_alone(prefixes: PrefixFactory) -> None:
    prefix = prefixes.new_name()
    with admin_client() as client:
        client.hset(key_base(prefix) + b"format", "x", "y")
        with pytest.raises(StoreConfigError, match=r"are not a tracestore-redis 1 store"):
            RedisStore.make_store(prefixes.connection_string(prefix))
        client.delete(key_base(prefix) + b"format")
        client.set(key_base(prefix) + b"format", "something else")
        with pytest.raises(StoreConfigError, match=r"found b'something else'"):
            RedisStore.make_store(prefixes.connection_string(prefix))
        assert client.get(key_base(prefix) + b"format") == b"something else"


def test_S14_example_connection_string_works(prefixes: PrefixFactory) -> None:
    if server_url() != DEFAULT_URL:
        pytest.skip(
            f"the example names the default server {DEFAULT_URL}; TRACESTORE_REDIS_URL points elsewhere"
        )
    url = RedisStore.example_connection_string.format(unique=secrets.token_hex(6))
    try:
        with RedisStore.make_store(url) as made:
            made.add([CallTrace(local_function, {"a": int}, str)])
            assert made.filter(__name__) == [
                CallTraceRow.from_trace(CallTrace(local_function, {"a": int}, str))
            ]
    finally:
        RedisStore.drop_store(url)
    assert store_keys(parse_connection_string(url).prefix + "}") == []


# -- prefixes: no store reaches another's keys ---------------------------------------------------


def test_prefixes_that_extend_each_other_are_separate_stores(prefixes: PrefixFactory) -> None:
    base = prefixes.new_name()
    names = [base, base + "_b", base + "b", base + "-"]
    stores = [RedisStore.make_store(prefixes.connection_string(name)) for name in names]
    for index, made in enumerate(stores):
        made.add([trace("m", f"f{index}")])
    for index, made in enumerate(stores):
        assert qualnames(made.filter("m")) == [f"f{index}"]
    RedisStore.drop_store(prefixes.connection_string(base))
    assert stores[0].filter("m") == [] and keys_of(stores[0]) == []
    for index, made in enumerate(stores[1:], start=1):
        assert qualnames(made.filter("m")) == [f"f{index}"]
        made.close()
    stores[0].close()


def test_drop_store_deletes_every_key_and_only_those(prefixes: PrefixFactory) -> None:
    url = prefixes.connection_string()
    with RedisStore.make_store(url) as made:
        made.add([trace(f"mod{m}", f"f{q}") for m in range(60) for q in range(40)])
        assert len(keys_of(made)) > 2000  # more than one SCAN step and one UNLINK
    with admin_client() as client:
        client.set(b"tracestore:{other}:rows", b"not ours")
        try:
            RedisStore.drop_store(url)
            assert client.get(b"tracestore:{other}:rows") == b"not ours"
        finally:
            client.delete(b"tracestore:{other}:rows")
    assert store_keys(parse_connection_string(url).prefix + "}") == []
    RedisStore.drop_store(url)  # dropping what is gone is no error


def test_the_kit_runner_drops_every_store_it_made(prefixes: PrefixFactory) -> None:
    template = with_params(server_url(), prefix=prefixes.prefix + "kit_{unique}")
    report = run_kit(RedisStore, connection_string=template, profile="dev", rules=["S1", "S10", "S14"])
    assert report.ok, format_text(report, verbose=True)
    assert store_keys(prefixes.prefix + "kit_") == []


# -- keys: no module or qualname collides with another ---------------------------------------------


COLLIDING = [
    ("a", "b:c"),
    ("a:b", "c"),
    ("1:a", "x"),
    ("a", "x"),
    ("", "1:ax"),
    ("ab", "c"),
    ("a", "bc"),
    ("a\x00", "b"),
    ("a", "\x00b"),
    ("{a}", "R:"),
    ("M:a", "Q:"),
    ("a}:R:1:a", "x"),
    ("🐍", "x"),
    ("\ud83d\udc0d", "x"),  # the same snake as a surrogate pair: a different str
    ("\ud800", "\udfff"),
    ("é", "x"),
    ("e\u0301", "x"),
]


def test_keys_never_collide_whatever_the_names_hold(store: RedisStore) -> None:
    store.add([trace(module, qualname) for module, qualname in COLLIDING])
    for module, qualname in COLLIDING:
        expected = [q for m, q in COLLIDING if m == module]
        assert sorted(qualnames(store.filter(module))) == sorted(expected), module
        assert qualnames(store.filter(module, qualname)) == [
            q for m, q in COLLIDING if m == module and q.startswith(qualname)
        ]
    assert sorted(store.list_modules()) == sorted({m for m, _ in COLLIDING})
    assert module_part("a:b") == b"3:a:b" and module_part("é") == b"2:\xc3\xa9"


@pytest.mark.parametrize(
    "weird",
    ["%", "_", "\\", "'", '"', "*", "?", "[a]", "a%", "é", "É", "日本", "🐍", "\x00", "\xff", ":", "{", "}"],
)
def test_S2_S3_metacharacters_are_literal(store: RedisStore, weird: str) -> None:
    names = [weird, f"{weird}x", f"x{weird}", "plain", "a", "ab", "Ab", "A%b", "a_b", "\x01", "A"]
    store.add([trace(module, f"{module}.{q}") for module in (weird, "plain") for q in names])
    for module in (weird, "plain", f"{weird}x", weird.upper()):
        for prefix in ("", f"{module}.", f"{module}.{weird}", f"{module}.a", f"{module}.A", f"{module}.%"):
            expected = sorted(
                {f"{module}.{q}" for q in names if f"{module}.{q}".startswith(prefix)}
                if module in (weird, "plain")
                else set()
            )
            assert sorted(qualnames(store.filter(module, prefix))) == expected, (module, prefix)


def test_S3_surrogates_and_the_last_code_point(store: RedisStore) -> None:
    top = "\U0010ffff"
    names = ["\ud800", "\ud800x", "\udfff", "\ud7ff", "\ue000", top, top + top, top + "a", "a" + top, "b"]
    store.add([trace("m", q) for q in names])
    for prefix in ["\ud800", "\ud7ff", top, top + top, "a", "a" + top, "\ue000"]:
        assert sorted(qualnames(store.filter("m", prefix))) == sorted(
            q for q in names if q.startswith(prefix)
        )


# -- semantics -----------------------------------------------------------------------------------


def test_S1_S15_round_trip_most_recent_first(store: RedisStore) -> None:
    first = CallTrace(local_function, {"a": int}, str)
    second = CallTrace(func_named(__name__, "local_function"), {"a": str}, str)
    store.add([first, second])
    assert as_rows(store.filter(__name__)) == [
        CallTraceRow.from_trace(second),
        CallTraceRow.from_trace(first),
    ]
    assert store.filter(__name__)[1].to_trace() == first


def test_S6_readded_trace_moves_to_front_and_is_listed_once(store: RedisStore) -> None:
    a, b, c = trace("m", "a"), trace("m", "b"), trace("m", "c")
    store.add([a, b, c])
    store.add([a])
    assert qualnames(store.filter("m")) == ["a", "c", "b"]
    assert qualnames(store.filter("m", limit=2)) == ["a", "c"]
    assert qualnames(store.filter("m", "a")) == ["a"]
    assert [row.qualname for row in store.iter_rows()] == ["b", "c", "a"]


def test_S6_repeats_inside_one_batch_count_at_the_last_place(store: RedisStore) -> None:
    a, b, c = trace("m", "a"), trace("m", "b"), trace("m", "c")
    store.add([a, b, a, c, b, a, a])
    assert qualnames(store.filter("m")) == ["a", "b", "c"]


def test_S6_null_return_and_yield_are_distinct_from_values(store: RedisStore) -> None:
    func = func_named("m", "f")
    store.add(
        [
            CallTrace(func, {"x": int}, None, None),
            CallTrace(func, {"x": int}, type(None), None),
            CallTrace(func, {"x": int}, None, int),
            CallTrace(func, {"x": int}, None, None),
        ]
    )
    assert [(row.return_type, row.yield_type) for row in as_rows(store.filter("m"))] == [
        (None, None),
        (None, '{"module": "builtins", "qualname": "int"}'),
        ('{"module": "builtins", "qualname": "NoneType"}', None),
    ]


def test_S5_prefix_merges_the_qualnames_newest_first(store: RedisStore) -> None:
    """Many qualnames under one prefix, each with many rows, interleaved in time: the heap merge."""
    history: List[CallTrace] = []
    for round_ in range(3):
        batch = [CallTrace(func_named("m", f"C.f{i % 37}"), {f"r{round_}_{i % 5}": int}) for i in range(300)]
        batch += [trace("m", f"C{i}") for i in range(round_ * 5, round_ * 5 + 5)]  # "C1" is not under "C."
        store.add(batch)
        history += batch
    newest: List[CallTraceRow] = []
    for row in map(CallTraceRow.from_trace, reversed(history)):
        if row.qualname.startswith("C.") and row not in newest:
            newest.append(row)
    assert len(newest) == 3 * 37 * 5
    for limit in (1, 5, 37, 256, 257, 555, 2000, 2**63, 2**80):
        assert as_rows(store.filter("m", "C.", limit=limit)) == newest[:limit], limit
    assert (
        as_rows(store.filter("m", "C.f1", limit=3))
        == [r for r in newest if r.qualname.startswith("C.f1")][:3]
    )


def test_S5_a_hot_qualname_is_read_in_growing_chunks(store: RedisStore) -> None:
    hot = [CallTrace(func_named("m", "Hot.f"), {f"a{i}": int}) for i in range(3000)]
    cold = [CallTrace(func_named("m", f"Hot.g{i}"), {"a": int}) for i in range(50)]
    store.add(hot[:1500] + cold + hot[1500:])
    newest = [CallTraceRow.from_trace(t) for t in reversed(hot[:1500] + cold + hot[1500:])]
    for limit in (1, 1024, 1025, 1600, 2500, 4000):
        assert as_rows(store.filter("m", "Hot.", limit=limit)) == newest[:limit], limit
    assert (
        as_rows(store.filter("m", "Hot.f", limit=2000)) == [r for r in newest if r.qualname == "Hot.f"][:2000]
    )


def test_S4_limits(store: RedisStore) -> None:
    store.add([trace("m", "a"), trace("m", "ab")])
    assert store.filter("m", limit=0) == [] and store.filter("m", "a", limit=0) == []
    with pytest.raises(ValueError):
        store.filter("m", limit=-1)
    assert qualnames(store.filter("m", limit=1)) == ["ab"]
    assert qualnames(store.filter("m", "a", limit=1)) == ["ab"]
    for huge in (2**53, 2**63, 2**80):
        assert len(store.filter("m", limit=huge)) == 2 and len(store.filter("m", "a", limit=huge)) == 2


def test_S8_empty(store: RedisStore) -> None:
    store.add([])
    assert store.filter("nothing") == [] and store.filter("nothing", "x") == []
    assert store.list_modules() == [] and list(store.iter_rows()) == []
    assert keys_of(store) == []


def test_S12_list_modules_each_once(store: RedisStore) -> None:
    store.add([trace(m, q) for m in ("b", "a", "a.b", "\x00z", "é") for q in ("f", "g")])
    store.add([trace("a", "f")])
    assert sorted(store.list_modules()) == sorted(["b", "a", "a.b", "\x00z", "é"])


def test_S7_bad_traces_are_skipped(store: RedisStore, caplog: pytest.LogCaptureFixture) -> None:
    bad = CallTrace(local_function, {"a": 42}, str)  # type: ignore[dict-item]  # not a type: cannot encode
    good = CallTrace(local_function, {"a": int}, str)
    store.add([bad, good])
    assert store.filter(__name__) == [CallTraceRow.from_trace(good)]
    assert any(record.levelname == "ERROR" for record in caplog.records)


def test_S10_a_new_client_sees_everything(prefixes: PrefixFactory) -> None:
    url = prefixes.connection_string()
    with RedisStore.make_store(url) as first:
        first.add([trace("m", f"f{i}") for i in range(5)])
        before = first.filter("m", limit=3)
    with RedisStore.make_store(url) as again:
        assert again.filter("m", limit=3) == before


def test_recency_is_the_servers_across_clients(prefixes: PrefixFactory) -> None:
    url = prefixes.connection_string()
    with RedisStore.make_store(url) as one, RedisStore.make_store(url) as two:
        for i in range(6):
            (one if i % 2 else two).add([trace("m", f"f{i}")])
        assert qualnames(one.filter("m")) == [f"f{i}" for i in reversed(range(6))]
        assert qualnames(two.filter("m", "f", limit=2)) == ["f5", "f4"]


def test_S11_threads(store: RedisStore) -> None:
    errors: List[BaseException] = []

    def work(n: int) -> None:
        try:
            for batch in range(10):
                store.add([trace("m", f"t{n}.{batch}.{i}") for i in range(20)])
                store.filter("m", f"t{n}", limit=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.filter("m", limit=10_000)) == 8 * 10 * 20


# -- atomicity, size, pool -------------------------------------------------------------------------


def test_a_large_add_is_stored_whole_and_no_reader_sees_half_of_it(store: RedisStore) -> None:
    batch = distinct_traces(70_000)
    rows_key = key_base(store._config.prefix) + b"rows"
    seen: List[int] = []
    done = threading.Event()

    def read() -> None:
        with admin_client() as client:
            while not done.is_set():
                seen.append(int(client.hlen(rows_key)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        store.add(batch)
    finally:
        done.set()
        reader.join()
    assert seen and set(seen) <= {0, len(batch)}, sorted(set(seen))
    with admin_client() as client:
        assert client.hlen(rows_key) == len(batch)
    modules = store.list_modules()
    assert sum(len(store.filter(module, limit=2**63)) for module in modules) == len(batch)
    assert len(list(store.iter_rows())) == len(batch)


def test_a_failing_add_writes_nothing(store: RedisStore) -> None:
    """The script checks every key it will write before the first write: no half batch."""
    store.add([trace("m", "before")])
    bad_key = key_base(store._config.prefix) + b"R:" + module_part("m") + b"f2"
    with admin_client() as client:
        client.set(bad_key, b"in the way")
    with pytest.raises(TraceStoreError, match=r"add failed: WRONGTYPE key .* is a string, not a zset"):
        store.add([trace("m", f"f{i}") for i in range(5)])
    assert qualnames(store.filter("m")) == ["before"]
    assert len(list(store.iter_rows())) == 1 and store.list_modules() == ["m"]


def our_clients(name: str) -> List[Dict[str, str]]:
    with admin_client() as client:
        return [each for each in client.client_list() if each.get("name") == name]


def test_the_pool_is_bounded_and_close_releases_it(prefixes: PrefixFactory) -> None:
    name = prefixes.new_name()
    made = RedisStore.make_store(prefixes.connection_string(client_name=name, max_connections="2"))
    errors: List[BaseException] = []
    peak: List[int] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                made.add([trace("m", f"w{n}.{i}.{j}") for j in range(2000)])
                peak.append(len(our_clients(name)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and 1 <= max(peak) <= 2
    assert len(made.filter("m", limit=2**63)) == 6 * 5 * 2000
    made.close()
    assert our_clients(name) == []
    with pytest.raises(TraceStoreError, match="is closed"):
        made.filter("m")
    made.close()


def test_a_killed_connection_is_replaced(prefixes: PrefixFactory) -> None:
    name = prefixes.new_name()
    with RedisStore.make_store(prefixes.connection_string(client_name=name, max_connections="1")) as made:
        made.add([trace("m", "before")])
        with admin_client() as client:
            (old,) = our_clients(name)
            client.client_kill_filter(_id=old["id"])
        made.add([trace("m", "after")])
        assert qualnames(made.filter("m")) == ["after", "before"]
        (new,) = our_clients(name)
        assert new["id"] != old["id"]


def test_iter_rows_pages_in_order(store: RedisStore) -> None:
    store.add([trace("m", f"f{i}") for i in range(4500)])
    store.add([trace("m", "f7")])
    order = [row.qualname for row in store.iter_rows()]
    assert order == [f"f{i}" for i in range(4500) if i != 7] + ["f7"]


def test_iter_rows_in_small_pages_and_add_rows_all_or_nothing(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reference_stores.redis.store, "STREAM_CHUNK", 3)
    rows = [CallTraceRow(f"m{i % 4}", f"f{i}", "{}", None if i % 2 else "null", None) for i in range(20)]
    store.add_rows(rows)
    store.add_rows([rows[5], rows[0]])
    assert list(store.iter_rows()) == [r for r in rows if r not in (rows[5], rows[0])] + [rows[5], rows[0]]
    with pytest.raises(EncodeError, match=r"row 1 .*field 'arg_types' must be a str"):
        store.add_rows([CallTraceRow("m9", "g", "{}", None, None), CallTraceRow("m9", "h", 3, None, None)])  # type: ignore[arg-type]
    assert store.filter("m9") == []


def test_a_flushed_script_cache_is_reloaded(store: RedisStore) -> None:
    """EVALSHA falls back to loading the script when the server no longer knows it."""
    store.add([trace("m", "before")])
    with admin_client() as client:
        client.script_flush()
    store.add([trace("m", "after")])
    assert qualnames(store.filter("m", "")) == ["after", "before"]
    with admin_client() as client:
        client.script_flush()
    assert qualnames(store.filter("m", "a")) == ["after"]


def copy_command(source: str, destination: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tracestore", "copy", source, destination]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_copy_command_both_ways(prefixes: PrefixFactory, tmp_path: Path) -> None:
    """redis -> sqlite -> redis with ``python -m tracestore copy``: every row as it is, in order."""
    first, second = prefixes.connection_string(), prefixes.connection_string()
    with RedisStore.make_store(first) as made:
        made.add([trace(f"gone.m{i % 3}", f"f{i}") for i in range(50)])  # rows that cannot decode here
        made.add([trace("gone.m0", "f4"), CallTrace(local_function, {"a": int}, str)])
        expected = [row.as_tuple() for row in made.iter_rows()]
    sqlite_path = tmp_path / "copy.sqlite3"
    for source, destination in [
        (f"redis={first}", f"sqlite={sqlite_path}"),
        (f"sqlite={sqlite_path}", f"redis={second}"),
    ]:
        done = copy_command(source, destination)
        assert done.returncode == 0, done.stderr
        assert "52 rows read from 4 modules (rows as they are): 52 new" in done.stderr, done.stderr
    with RedisStore.make_store(second) as copied:
        assert [row.as_tuple() for row in copied.iter_rows()] == expected
        with RedisStore.make_store(first) as original:
            assert copied.filter("gone.m0", limit=2) == original.filter("gone.m0", limit=2)


def test_as_monkeytype_store_and_the_redis_alias(prefixes: PrefixFactory) -> None:
    from monkeytype.tracing import CallTrace as MonkeyTypeCallTrace

    from tracestore.monkeytype import as_monkeytype_store
    from tracestore.monkeytype_config import CONNECTION_VAR, STORE_VAR, store_spec_from_env

    url = prefixes.connection_string()
    spec = store_spec_from_env({STORE_VAR: "redis", CONNECTION_VAR: url})
    assert spec == f"redis={url}"
    adapter = as_monkeytype_store(open_store(spec))
    adapter.add([MonkeyTypeCallTrace(local_function, {"a": int}, str)])
    assert [thunk.to_trace() for thunk in adapter.filter(__name__)] == [
        MonkeyTypeCallTrace(local_function, {"a": int}, str)
    ]
    assert adapter.list_modules() == [__name__]


# -- the conformance kit -------------------------------------------------------------------------

KIT_PREFIXES = PrefixFactory("kit")
KIT_DIRECTORIES: Dict[Path, str] = {}  # the prefix of the store last made for each directory


@pytest.fixture(scope="module")
def kit_server() -> Iterator[None]:
    """The server is up (else skip, or fail under CI); afterwards nothing the kit made is left."""
    require_server()
    yield
    KIT_PREFIXES.drop_all()


@pytest.mark.usefixtures("kit_server")
class TestRedisConformance(CallTraceStoreTests[RedisStore]):
    """The whole kit against the real server: one fresh prefix per generated example.

    S10 reopens through a new ``RedisStore``: a new connection pool, so new connections.
    """

    distinct_results = True
    ordered_results = True

    def connection_string(self, directory: Path) -> str:
        prefix = KIT_DIRECTORIES.get(directory)
        if prefix is None:
            prefix = KIT_DIRECTORIES[directory] = KIT_PREFIXES.new_name()
        return KIT_PREFIXES.connection_string(prefix)

    def make_store(self, directory: Path) -> RedisStore:
        # A new prefix every time: the kit may hand out a deleted directory's path again.
        KIT_DIRECTORIES[directory] = KIT_PREFIXES.new_name()
        return RedisStore.make_store(self.connection_string(directory))

    def reopen_store(self, store: RedisStore, directory: Path) -> RedisStore:
        return RedisStore.make_store(self.connection_string(directory))

    def remove_store(self, directory: Path) -> None:
        RedisStore.drop_store(self.connection_string(directory))

    def bad_connection_strings(self, directory: Path) -> Sequence[str]:
        good = self.connection_string(directory)
        return [
            str(directory / "traces.db"),
            good.replace("prefix=", "prefix=a:"),
            good.replace("prefix=", "prefix=*"),
            good.replace("127.0.0.1:6379", "127.0.0.1:1")
            if "127.0.0.1:6379" in good
            else "redis://127.0.0.1:1/0",
            good.replace("/0?", "/99999?"),
        ]
