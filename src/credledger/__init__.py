"""Composition root: settings, wiring, bootstrap and the command line."""

import logging


def configure_logging() -> None:
    """The same log lines from `credledger` and from every server process it spawns."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
