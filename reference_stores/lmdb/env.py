"""A typed layer over py-lmdb: one shared, fork-safe, self-growing environment per path per process.

* ``open_shared_env`` validates and opens (or reuses) the environment a connection
  string names, creating the named databases; on failure it removes whatever it
  created and raises ``StoreConfigError`` (S14).
* ``SharedEnv.read`` / ``SharedEnv.write`` run a function in one transaction. A
  write that fills the map grows it (``set_mapsize``) and runs again; a map grown by
  another process is adopted. Writes of this process are serialized by a lock, other
  processes' by LMDB's own writer lock.
* LMDB environments must not cross ``fork``: before a fork every shared environment
  is closed (after waiting for its transactions), and each process reopens it on
  next use.

py-lmdb's objects are typed here by small protocols, so the rest of the store is
checked by mypy whichever py-lmdb version (with or without stubs) is installed.
"""

from __future__ import annotations

import os
import pathlib
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

import lmdb as _lmdb_module

from reference_stores.lmdb.config import LMDBOptions
from reference_stores.lmdb.gate import Gate
from reference_stores.lmdb.mapped import drop_mapped_pages
from reference_stores.lmdb.names import NameCache
from reference_stores.lmdb.types import DB_NAMES, Dbs, Txn
from tracestore import StoreConfigError, TraceStoreError

lmdb: Any = _lmdb_module
T = TypeVar("T")

FORMAT_KEY = b"format"
FORMAT = b"tracestore-lmdb/1"
GROWTH_FACTOR = 2


class SharedEnv:
    """One LMDB environment, shared by every ``LMDBStore`` of this process that names it."""

    def __init__(self, key: Tuple[str, bool], options: LMDBOptions, env: Any, dbs: Dbs) -> None:
        self.key = key
        self.options = options
        self.cache = NameCache()
        self.users = 0
        self._handle: Optional[Tuple[Any, Dbs]] = (env, dbs)
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._gate = Gate()

    # -- transactions -------------------------------------------------------------

    def read(self, func: Callable[[Txn, Dbs], T]) -> T:
        """Run ``func`` in a read transaction (a consistent snapshot)."""
        while True:
            with self._gate.shared():
                env, dbs = self._current()
                try:
                    txn = env.begin(write=False)
                except lmdb.MapResizedError:
                    pass
                else:
                    try:
                        return func(txn, dbs)
                    finally:
                        txn.abort()
            self._adopt_map_size()

    def write(self, func: Callable[[Txn, Dbs], T], size_hint: int = 0) -> T:
        """Run ``func`` in one write transaction and commit (all or nothing).

        ``func`` may run more than once (after the map grew), so it must only
        collect its results, not publish them. ``size_hint`` is a guess of the bytes
        it writes, used to grow the map ahead of time.
        """
        with self._write_lock:
            if size_hint:
                self._reserve(size_hint)
            while True:
                full = False
                with self._gate.shared():
                    env, dbs = self._current()
                    try:
                        txn = env.begin(write=True)
                    except lmdb.MapResizedError:
                        txn = None
                    if txn is not None:
                        try:
                            result = func(txn, dbs)
                            txn.commit()
                            return result
                        except lmdb.MapFullError:
                            txn.abort()
                            full = True
                        except BaseException:
                            txn.abort()
                            raise
                if full:
                    self._grow(0)
                else:
                    self._adopt_map_size()

    # -- map size -------------------------------------------------------------------

    def drop_mapped_pages(self) -> None:
        """Give back the resident pages of the map (``lmdb.mapped``); no remap can run meanwhile."""
        with self._gate.shared():
            self._current()
            data = os.path.join(self.options.path, "data.mdb") if self.options.subdir else self.options.path
            drop_mapped_pages(data)

    def map_size(self) -> int:
        env, _ = self._current()
        return int(env.info()["map_size"])

    def used_bytes(self) -> int:
        """Bytes of the map in use (pages up to the last one written)."""
        env, _ = self._current()
        return (int(env.info()["last_pgno"]) + 1) * int(env.stat()["psize"])

    def _reserve(self, size_hint: int) -> None:
        if self.used_bytes() + size_hint > self.map_size():
            self._grow(size_hint)

    def _grow(self, needed: int) -> None:
        with self._gate.exclusive():
            env, _ = self._current()
            current = int(env.info()["map_size"])
            used = (int(env.info()["last_pgno"]) + 1) * int(env.stat()["psize"])
            env.set_mapsize(max(current * GROWTH_FACTOR, used + 2 * needed))

    def _adopt_map_size(self) -> None:
        with self._gate.exclusive():
            env, _ = self._current()
            env.set_mapsize(0)  # 0: take the size another process grew the map to

    # -- open, close, fork ------------------------------------------------------------

    def _current(self) -> Tuple[Any, Dbs]:
        handle = self._handle
        if handle is None:
            with self._open_lock:
                handle = self._handle
                if handle is None:
                    try:
                        handle = _open_environment(self.options)
                    except StoreConfigError as exc:
                        raise TraceStoreError(
                            f"cannot reopen the LMDB environment {self.key[0]!r}: {exc}"
                        ) from exc
                    self._handle = handle
        return handle

    def close(self) -> None:
        """Close the environment now (it reopens on next use)."""
        with self._write_lock, self._gate.exclusive():
            self._close_now()

    def _close_now(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle[0].close()

    def suspend_for_fork(self) -> None:
        self._write_lock.acquire()
        self._gate.acquire_exclusive()
        self._close_now()

    def resume_after_fork(self) -> None:
        self._gate.release_exclusive()
        self._write_lock.release()

    def reset_in_child(self) -> None:
        self._write_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._gate = Gate()


# -- the process registry ---------------------------------------------------------------

_REGISTRY: Dict[Tuple[str, bool], SharedEnv] = {}
# Re-entrant: a store's finalizer (release_shared_env) may run inside any allocation, also here.
_REGISTRY_LOCK = threading.RLock()
_SUSPENDED: List[SharedEnv] = []


def open_shared_env(options: LMDBOptions, connection_string: str) -> SharedEnv:
    """The shared environment ``options`` name, opened (and created) if need be; counts a user."""
    key = _registry_key(options, connection_string)
    with _REGISTRY_LOCK:
        shared = _REGISTRY.get(key)
        if shared is None:
            env, dbs = _open_checked(options, connection_string)
            shared = SharedEnv(key, options, env, dbs)
            _REGISTRY[key] = shared
        elif shared.options.readonly and not options.readonly:
            raise StoreConfigError(
                f"LMDB connection string {connection_string!r}: this process has the environment open "
                "read-only (readonly=true); close those stores first to open it for writing"
            )
        shared.users += 1
        return shared


def release_shared_env(shared: SharedEnv) -> None:
    """Drop one user; the last one closes the environment."""
    with _REGISTRY_LOCK:
        shared.users -= 1
        if shared.users > 0:
            return
        if _REGISTRY.get(shared.key) is shared:
            del _REGISTRY[shared.key]
        shared.close()  # under the lock, so that a new open of the path waits for it


def _registry_key(options: LMDBOptions, connection_string: str) -> Tuple[str, bool]:
    try:
        return (os.path.realpath(options.path), options.subdir)
    except (OSError, ValueError) as exc:
        raise StoreConfigError(f"LMDB connection string {connection_string!r}: bad path ({exc})") from exc


def _before_fork() -> None:
    _REGISTRY_LOCK.acquire()
    for shared in list(_REGISTRY.values()):
        shared.suspend_for_fork()
        _SUSPENDED.append(shared)


def _after_fork_in_parent() -> None:
    for shared in _SUSPENDED:
        shared.resume_after_fork()
    _SUSPENDED.clear()
    _REGISTRY_LOCK.release()


def _after_fork_in_child() -> None:
    global _REGISTRY_LOCK
    for shared in _SUSPENDED:
        shared.reset_in_child()
    _SUSPENDED.clear()
    _REGISTRY_LOCK = threading.RLock()


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)


# -- opening and validating ------------------------------------------------------------


def _open_checked(options: LMDBOptions, connection_string: str) -> Tuple[Any, Dbs]:
    """Open the environment; on failure remove every file this call created, then raise S14's error."""
    created = _files_to_create(options, connection_string)
    directory = pathlib.Path(options.path)
    if options.subdir and directory in created:  # made here, so that writers racing to create it all succeed
        try:
            directory.mkdir()
        except FileExistsError:
            created.remove(directory)
        except OSError as exc:
            raise StoreConfigError(
                f"LMDB connection string {connection_string!r}: cannot create ({exc})"
            ) from exc
    try:
        return _open_environment(options)
    except StoreConfigError as exc:
        _remove_created(created)
        raise StoreConfigError(f"LMDB connection string {connection_string!r}: {exc}") from exc
    except Exception as exc:
        _remove_created(created)
        raise StoreConfigError(f"LMDB connection string {connection_string!r}: cannot open ({exc})") from exc


def _files_to_create(options: LMDBOptions, connection_string: str) -> List[pathlib.Path]:
    """Check the path's shape and list the files and directory that opening would create."""
    path = pathlib.Path(options.path)

    def fail(reason: str) -> StoreConfigError:
        return StoreConfigError(f"LMDB connection string {connection_string!r}: {reason}")

    try:
        is_dir, exists = path.is_dir(), os.path.lexists(path)
        parent_is_dir = path.parent.is_dir()
    except (OSError, ValueError) as exc:
        raise fail(f"bad path ({exc})") from exc
    if not exists and not parent_is_dir:
        what = "is not a directory" if os.path.lexists(path.parent) else "does not exist"
        raise fail(f"the parent directory {str(path.parent)!r} {what}")
    if options.readonly and not os.path.isfile(path / "data.mdb" if options.subdir else path):
        raise fail(f"readonly=true opens an existing environment, and {options.path!r} holds none")
    if options.subdir:
        if exists and not is_dir:
            raise fail(
                f"{options.path!r} is a file, not an LMDB environment directory (add '?subdir=false' for one)"
            )
        files = [path / "data.mdb", path / "lock.mdb"]
        created = [f for f in files if not os.path.lexists(f)]
        return created + ([path] if not exists else [])
    if is_dir:
        raise fail(f"{options.path!r} is a directory, but subdir=false names a data file")
    files = [path, pathlib.Path(options.path + "-lock")]
    return [f for f in files if not os.path.lexists(f)]


def _remove_created(created: List[pathlib.Path]) -> None:
    for item in created:
        try:
            if item.is_dir():
                item.rmdir()
            else:
                item.unlink()
        except OSError:
            pass


def _open_environment(options: LMDBOptions) -> Tuple[Any, Dbs]:
    """Open (or create) the environment; read-only (``readonly``): LMDB's ``readonly=True``.

    A read-only environment never writes ``data.mdb``; readers still register in the lock
    file (``lock=True``), so that a writer in another process never reuses pages that they
    read: turning locking off is only safe when nothing writes, which we cannot know.
    """
    try:
        env = lmdb.open(
            options.path,
            map_size=options.map_size,
            subdir=options.subdir,
            sync=options.sync,
            metasync=options.sync,
            max_dbs=len(DB_NAMES) + 2,
            lock=True,
            create=not options.readonly,
            readonly=options.readonly,
        )
    except lmdb.InvalidError as exc:
        raise StoreConfigError(f"not an LMDB environment ({exc})") from exc
    try:
        env.reader_check()  # free the reader slots of processes that died
        _check_format(env)
        return env, _existing_databases(env) if options.readonly else _open_databases(env)
    except BaseException:
        env.close()
        raise


def _check_format(env: Any) -> None:
    with env.begin() as txn:
        names = [bytes(key) for key in txn.cursor().iternext(values=False)]
        if not names:
            return
        unknown = [name for name in names if name not in DB_NAMES]
        if unknown:
            raise StoreConfigError(f"an LMDB environment of some other program (it holds {unknown[:5]!r})")
        meta = env.open_db(b"meta", txn=txn, create=False) if b"meta" in names else None
        found = txn.get(FORMAT_KEY, db=meta) if meta is not None else None
    if found != FORMAT:
        raise StoreConfigError(f"not a tracestore LMDB environment (format {found!r}, expected {FORMAT!r})")


def _existing_databases(env: Any) -> Dbs:
    """The named databases of a read-only environment (each opened in a transaction of its own,
    which py-lmdb commits, so that the handles outlive it)."""
    with env.begin() as txn:
        names = {bytes(key) for key in txn.cursor().iternext(values=False)}
    missing = [name for name in DB_NAMES if name not in names]
    if missing:
        raise StoreConfigError(f"not a complete tracestore LMDB environment (no {missing[0]!r} database)")
    return Dbs(*[env.open_db(name, create=False) for name in DB_NAMES])


def _open_databases(env: Any) -> Dbs:
    while True:
        try:
            with env.begin(write=True) as txn:
                handles = [env.open_db(name, txn=txn, create=True) for name in DB_NAMES]
                dbs = Dbs(*handles)
                if txn.get(FORMAT_KEY, db=dbs.meta) is None:
                    txn.put(FORMAT_KEY, FORMAT, db=dbs.meta)
            return dbs
        except lmdb.MapFullError:
            env.set_mapsize(int(env.info()["map_size"]) * GROWTH_FACTOR)
