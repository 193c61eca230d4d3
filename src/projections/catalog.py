"""Every read model, by name."""

from __future__ import annotations

from projections.history import HistoryModel
from projections.imported import ImportedHashesModel
from projections.model import ReadModel
from projections.organizations import OrganizationsModel
from projections.users import UsersModel


def all_models() -> list[ReadModel]:
    return [UsersModel(), OrganizationsModel(), HistoryModel(), ImportedHashesModel()]
