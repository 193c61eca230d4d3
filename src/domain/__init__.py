"""Credential domain: aggregates, events, policy and the one catalogue of domain errors.

Knows nothing of HTTP, SQL, clocks or randomness: values such as timestamps, hashes and ids
are computed by the application service and passed in.
"""
