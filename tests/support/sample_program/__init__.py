"""A small program for ``monkeytype run``: functions, methods, generators and nested classes.

Its annotations are what the traces should find; the end-to-end tests run ``monkeytype
stub --ignore-existing-annotations`` so that every stub comes from the traces alone.
"""
