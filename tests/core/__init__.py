"""Tests of the typed core: the trace model, the encoding, public names and package layers."""
