"""The plain app credledger is measured against: FastAPI, one SQLite table, the same argon2id
parameters, no events, no projections, no policy. What a team would write by hand.

    uvicorn --app-dir bench baseline_app:app --port 8090   (CREDLEDGER_ARGON2_* apply)
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
import threading
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

HASHER = PasswordHasher(
    time_cost=int(os.environ.get("CREDLEDGER_ARGON2_TIME_COST", "2")),
    memory_cost=int(os.environ.get("CREDLEDGER_ARGON2_MEMORY_COST", "19456")),
    parallelism=int(os.environ.get("CREDLEDGER_ARGON2_PARALLELISM", "1")),
    type=Type.ID,
)
DATABASE = Path(os.environ.get("BASELINE_DATABASE", Path(tempfile.mkdtemp()) / "baseline.db"))
_local = threading.local()


def db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DATABASE, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        _local.conn = conn
    return conn


db().execute("CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, hash TEXT NOT NULL)")
app = FastAPI()


class NewUser(BaseModel):
    id: str
    password: str


class Login(BaseModel):
    id: str
    password: str


class Change(BaseModel):
    currentPassword: str  # noqa: N815 (the wire name)
    newPassword: str  # noqa: N815


def _hash_of(user_id: str) -> str:
    row = db().execute("SELECT hash FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise HTTPException(404)
    return row[0]


def _verify(encoded: str, password: str) -> None:
    try:
        HASHER.verify(encoded, password)
    except VerificationError:
        raise HTTPException(401) from None


@app.post("/users", status_code=201)
def create(body: NewUser) -> dict[str, str]:
    db().execute("INSERT INTO users VALUES (?, ?)", (body.id, HASHER.hash(body.password)))
    return {"id": body.id}


@app.post("/sessions", status_code=201)
def login(body: Login) -> dict[str, str]:
    _verify(_hash_of(body.id), body.password)
    return {"token": secrets.token_urlsafe(32)}


@app.post("/users/{user_id}/password")
def change(user_id: str, body: Change) -> dict[str, str]:
    _verify(_hash_of(user_id), body.currentPassword)
    db().execute("UPDATE users SET hash = ? WHERE id = ?", (HASHER.hash(body.newPassword), user_id))
    return {"id": user_id}


@app.get("/users/{user_id}")
def read(user_id: str) -> dict[str, str]:
    _hash_of(user_id)
    return {"id": user_id}


@app.get("/ping")
def ping() -> dict[str, str]:
    return {}
