"""Signed notes and checkpoints to the byte: the Go sumdb/note vectors, the C2SP example."""

from __future__ import annotations

import base64

import pytest

from ledger.note import Checkpoint, InvalidNote, NoteSigner, NoteVerifier
from tests.independent import open_checkpoint

# golang.org/x/mod/sumdb/note, note_test.go (Ed25519 is deterministic, so signing must match).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFY"
    "C2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# The example of the C2SP signed-note specification.
C2SP_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfX"
    "ppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def go_signer() -> NoteSigner:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])[1:]
    return NoteSigner("PeterNeumann", seed)


def test_signing_reproduces_the_go_reference_note_byte_for_byte():
    signer = go_signer()
    assert signer.verifier_key == GO_VERIFIER
    assert signer.sign(GO_TEXT) == GO_NOTE


def test_notes_signed_elsewhere_open_with_our_verifier():
    assert NoteVerifier(GO_VERIFIER).open(GO_NOTE) == GO_TEXT
    assert NoteVerifier(C2SP_VERIFIER).open(C2SP_NOTE) == "This is an example message.\n"


def test_a_changed_byte_or_another_key_is_refused():
    verifier = NoteVerifier(GO_VERIFIER)
    with pytest.raises(InvalidNote):
        verifier.open(GO_NOTE.replace("cryptography", "cryptograph"))
    with pytest.raises(InvalidNote):
        verifier.open(C2SP_NOTE)
    with pytest.raises(InvalidNote):
        NoteVerifier(GO_VERIFIER.replace("c74f20a3", "c74f20a4"))


def test_checkpoints_are_c2sp_tlog_checkpoints_an_independent_verifier_opens():
    signer = NoteSigner("credledger/test", bytes(range(32)))
    root = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    note = signer.sign_checkpoint(8, root)
    body = "credledger/test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    assert note.startswith(body + "\n\u2014 credledger/test ")
    opened = open_checkpoint(note, signer.verifier_key)
    assert (opened.origin, opened.size, opened.root, opened.extra) == (
        "credledger/test",
        8,
        root,
        [],
    )
    assert NoteVerifier(signer.verifier_key).open_checkpoint(note) == Checkpoint(
        "credledger/test", 8, root
    )


@pytest.mark.parametrize("name", ["", "a+b", "two words", "tab\there"])
def test_origins_that_are_not_key_names_are_refused(name):
    with pytest.raises(ValueError):
        NoteSigner(name, bytes(32))
