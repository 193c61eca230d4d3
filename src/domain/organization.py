"""The organization (tenant) aggregate: name, alias and password policy."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.policy import PasswordPolicy
from domain.user import Audit


class Organization(Aggregate):
    class Registered(Aggregate.Created):
        name: str
        alias: str
        policy: dict[str, Any]
        audit: Audit

    @event(Registered)
    def __init__(self, name: str, alias: str, policy: dict[str, Any], audit: Audit) -> None:
        self.name = name
        self.alias = alias
        self.policy_fields = dict(policy)

    @property
    def policy(self) -> PasswordPolicy:
        return PasswordPolicy.from_dict(self.policy_fields)

    class PolicyChanged(Aggregate.Event):
        policy: dict[str, Any]
        audit: Audit

        def apply(self, org: Organization) -> None:
            org.policy_fields = dict(self.policy)

    def change_policy(self, policy: PasswordPolicy, audit: Audit) -> None:
        self.trigger_event(self.PolicyChanged, policy=policy.to_dict(), audit=audit)
