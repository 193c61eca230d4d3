"""Composition root: settings, wiring, bootstrap and the command line."""
