"""The layers' arrows point down: each package imports only the packages below it.

api -> service -> domain; projections and the pure ledger know events and a store interface;
storage adapts SQLite and PostgreSQL to what the inner layers ask; credledger wires it all.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ALLOWED = {
    "domain": set(),
    "ledger": set(),
    "projections": {"domain", "ledger"},
    "service": {"domain", "ledger", "projections"},
    "api": {"domain", "projections", "service"},
    "storage": {"domain", "projections", "service"},
    "credledger": {"api", "domain", "ledger", "projections", "service", "storage"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_every_package_imports_only_the_layers_below_it():
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((SRC / package).rglob("*.py")):
            ours = (_imports(path) & ALLOWED.keys()) - {package}
            wrong += [f"{path.relative_to(SRC)} imports {name}" for name in ours - allowed]
    assert wrong == []


def test_every_source_package_has_a_layer():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    assert packages == ALLOWED.keys()
