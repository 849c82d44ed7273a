"""Tests of the reference stores: each engine's own behaviour, crashes, processes and row copies."""
