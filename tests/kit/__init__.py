"""Tests of the conformance kit: its strategies, report, CLI, the user example and its self-test."""
