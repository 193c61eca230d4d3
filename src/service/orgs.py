"""Use cases on organizations: bootstrap, register, read, change policy."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from domain.errors import AliasTaken, AlreadyInitialized, Forbidden, InvalidArgument, OrgNotFound
from domain.indexes import AliasIndex, Instance, UsernameIndex
from domain.names import display_username, normalize_alias
from domain.organization import Organization
from domain.policy import PasswordPolicy
from domain.user import User
from service.context import INSTANCE_ADMIN, Actor, RequestContext
from service.core import Core, password_input
from service.results import Created, Details, OrgView

MAX_ORG_NAME = 200


def _org_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_ORG_NAME:
        raise InvalidArgument("name", f"must be 1 to {MAX_ORG_NAME} characters")
    return name


class OrgUseCases(Core):
    def bootstrap(
        self, alias: str, name: str, admin_username: str, admin_password: str, ctx: RequestContext
    ) -> tuple[UUID, UUID]:
        """First start: the default org and an instance_admin, saved in one transaction."""
        if self.instance() is not None:
            raise AlreadyInitialized()
        alias, name = normalize_alias(alias), _org_name(name)
        username = display_username(admin_username)
        audit = ctx.audit("bootstrap", "admin")
        policy = PasswordPolicy()
        org = Organization(name=name, alias=alias, policy=policy.to_dict(), audit=audit)
        admin_password = password_input(admin_password)
        violations = policy.cheap_violations(admin_password, (username, alias))
        if violations:
            raise InvalidArgument("adminPassword", f"breaks the password policy: {violations}")
        user_id = uuid4()
        user = User(
            id=user_id,
            org_id=org.id,
            username=username,
            numeric_id=self.keys.numeric_id(user_id),
            email=None,
            full_name=None,
            roles=[INSTANCE_ADMIN],
            audit=audit,
        )
        history_hash = self.hasher.history_hash(admin_password, self.keys.history_salt(user_id))
        user.set_password(
            self.hasher.hash(admin_password, continuing=True), False, audit, history_hash
        )
        records = (
            org,
            AliasIndex(id=self.alias_index_id(alias), org_id=org.id),
            user,
            UsernameIndex(id=self.username_index_id(org.id, username), user_id=user.id),
            Instance(
                id=self.keys.keyed_id("instance"), default_org_id=org.id, admin_user_id=user.id
            ),
        )
        try:
            self.store.save(*records)
        except IntegrityError:
            raise AlreadyInitialized() from None
        return org.id, user.id

    def register_org(
        self,
        actor: Actor,
        name: str,
        alias: str,
        policy: PasswordPolicy | None,
        ctx: RequestContext,
    ) -> Created:
        if not actor.is_instance_admin:
            raise Forbidden()
        alias, name = normalize_alias(alias), _org_name(name)
        index_id = self.alias_index_id(alias)
        if self.load(AliasIndex, index_id) is not None:
            raise AliasTaken()
        policy = policy or PasswordPolicy()
        org = Organization(
            name=name,
            alias=alias,
            policy=policy.to_dict(),
            audit=ctx.audit(str(actor.user_id), "admin"),
        )
        try:
            self.store.save(org, AliasIndex(id=index_id, org_id=org.id))
        except IntegrityError:  # a concurrent registration claimed the alias first
            raise AliasTaken() from None
        return Created(org.id, Details.of(org, org.id))

    def get_org(self, actor: Actor, org_id: UUID) -> OrgView:
        if not actor.reaches(org_id):
            raise OrgNotFound()
        org = self.org(org_id)
        return OrgView(org.id, org.name, org.alias, org.policy.to_camel(), Details.of(org, org.id))

    def update_policy(
        self, actor: Actor, org_id: UUID, policy: PasswordPolicy, ctx: RequestContext
    ) -> Details:
        def attempt() -> Details:
            org = self.org_for_admin(actor, org_id)
            org.change_policy(policy, ctx.audit(str(actor.user_id), "admin"))
            self.store.save(org)
            return Details.of(org, org.id)

        return self.retrying(attempt)
