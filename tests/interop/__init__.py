"""Tests of MonkeyType interop: the adapter, end-to-end traced runs, and the copy command."""
