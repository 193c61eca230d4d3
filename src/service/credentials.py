"""The application service: every use case, on one event store."""

from __future__ import annotations

from service.imports import ImportUseCases
from service.orgs import OrgUseCases
from service.reset_requests import ResetRequestUseCases
from service.sessions import SessionUseCases


class CredentialService(OrgUseCases, ImportUseCases, SessionUseCases, ResetRequestUseCases):
    """Composed of one mixin per family of use cases, all sharing `Core`."""
