"""Reference call-trace stores: one package per engine, plus what they share.

* ``memory``: ``InMemoryStore``, process-local, the simplest correct store.
* ``sqlite``, ``lmdb``, ``postgres``: one package each, whose ``__init__`` exports the store.
* ``rows``: checks of the rows given to a store's ``add_rows`` (shared by every store).

Each engine's third-party driver is imported only by its own package, and no store
package imports another's.
"""
