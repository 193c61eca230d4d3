"""Every problem (domain error or framework failure) has an answer in every dialect."""

from __future__ import annotations

import pytest

from api import assure, horizon, kendox, lifepos, zitadel
from api.native.errors import KIND_STATUS
from api.problems import all_problem_codes
from domain.errors import Kind, all_domain_errors
from domain.policy import RULE_ORDER

VENDORS = [lifepos, assure, kendox, horizon, zitadel]


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.__name__.split(".")[-1])
@pytest.mark.parametrize("code", sorted(all_problem_codes()))
def test_every_problem_code_has_a_mapping_in_every_vendor_dialect(vendor, code):
    assert code in vendor.CODES, f"{vendor.__name__} has no answer for {code!r}"


@pytest.mark.parametrize("vendor", [kendox, zitadel], ids=["kendox", "zitadel"])
@pytest.mark.parametrize("rule", RULE_ORDER)
def test_every_policy_rule_has_its_own_code_where_the_vendor_has_them(vendor, rule):
    assert rule in vendor.RULES


def test_native_dialect_answers_every_kind():
    assert set(KIND_STATUS) == set(Kind)


def test_domain_error_codes_are_stable_snake_case_and_unique_per_class():
    codes = [cls.code for cls in all_domain_errors()]
    assert all(code.replace("_", "").isalnum() and code.islower() for code in codes)
    assert len(codes) == len(set(codes))
