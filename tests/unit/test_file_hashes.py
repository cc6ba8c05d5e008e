"""The inbox's hashes kept between commands: a file as it was is not read again; a file
changed in any way, even with its dates put back, is."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

import recouvrement.ingest.file_hashes as file_hashes
from recouvrement.ingest.file_hashes import FileHashes
from recouvrement.ingest.readers import discover

CUSTOMERS = "account,name,email\n411DUPONT,Dupont SARL,compta@dupont.example\n"


@pytest.fixture
def at_rest(monkeypatch):
    """Files written by the test count as at rest at once (else: a second after)."""
    monkeypatch.setattr(file_hashes, "QUIET_NS", 0)


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "customers_20261102.csv").write_text(CUSTOMERS, encoding="utf-8")
    return folder


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def no_reading(monkeypatch):
    def refuse(path):
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(file_hashes, "read_regular", refuse)


def test_a_file_as_it_was_is_not_read_again(inbox, tmp_path, at_rest, monkeypatch):
    [first] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert first.sha256 == sha(CUSTOMERS)
    cache = tmp_path / "cache" / "inbox-sha256.json"
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    no_reading(monkeypatch)
    [again] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert again.sha256 == first.sha256


def test_a_file_rewritten_with_its_size_and_dates_put_back_is_hashed_again(inbox, tmp_path,
                                                                         at_rest):
    path = inbox / "customers_20261102.csv"
    discover(inbox, [], FileHashes.of_home(tmp_path))
    before = path.stat()
    changed = CUSTOMERS.replace("DUPONT", "DURAND")  # same size
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    [again] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert again.sha256 == sha(changed)


def test_a_file_replaced_by_another_of_the_same_name_is_hashed_again(inbox, tmp_path, at_rest):
    discover(inbox, [], FileHashes.of_home(tmp_path))
    other = CUSTOMERS + "411MARTIN,Martin SA,martin@example.com\n"
    replacement = tmp_path / "new.csv"
    replacement.write_text(other, encoding="utf-8")
    os.replace(replacement, inbox / "customers_20261102.csv")
    [again] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert again.sha256 == sha(other)


def test_a_file_written_less_than_a_second_ago_is_hashed_again_next_time(inbox, tmp_path,
                                                                       monkeypatch):
    """It may still be being copied into the inbox: its hash is not kept."""
    [first] = discover(inbox, [], FileHashes.of_home(tmp_path))
    reads = []
    real = file_hashes.read_regular
    monkeypatch.setattr(file_hashes, "read_regular", lambda p: reads.append(p) or real(p))
    [again] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert again.sha256 == first.sha256 and len(reads) == 1


def test_the_cache_keeps_only_the_files_still_in_the_inbox(inbox, tmp_path, at_rest):
    (inbox / "invoices_20261102.csv").write_text("invoice_number\n", encoding="utf-8")
    discover(inbox, [], FileHashes.of_home(tmp_path))
    cache = tmp_path / "cache" / "inbox-sha256.json"
    assert len(json.loads(cache.read_text())) == 2
    (inbox / "invoices_20261102.csv").unlink()
    discover(inbox, [], FileHashes.of_home(tmp_path))
    assert [k.rsplit("/", 1)[-1] for k in json.loads(cache.read_text())] == [
        "customers_20261102.csv"]


def test_a_damaged_cache_is_ignored_and_written_again(inbox, tmp_path, at_rest):
    cache = tmp_path / "cache" / "inbox-sha256.json"
    cache.parent.mkdir()
    cache.write_text("{not json", encoding="utf-8")
    [found] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert found.sha256 == sha(CUSTOMERS)
    assert list(json.loads(cache.read_text()).values())[0][-1] == sha(CUSTOMERS)


def test_a_cache_entry_for_another_content_is_not_believed(inbox, tmp_path, at_rest):
    """An entry whose file identity does not match (a copy of the home, a forged line) is
    not used: the file is hashed."""
    path = inbox / "customers_20261102.csv"
    cache = tmp_path / "cache" / "inbox-sha256.json"
    cache.parent.mkdir()
    s = path.stat()
    cache.write_text(json.dumps({str(path.absolute()): [s.st_dev, s.st_ino + 1, s.st_size,
                                                        s.st_mtime_ns, s.st_ctime_ns,
                                                        "0" * 64]}), encoding="utf-8")
    [found] = discover(inbox, [], FileHashes.of_home(tmp_path))
    assert found.sha256 == sha(CUSTOMERS)


def test_a_link_put_in_place_of_a_cached_file_is_refused_unread(inbox, tmp_path, at_rest):
    discover(inbox, [], FileHashes.of_home(tmp_path))
    secret = tmp_path / "secret.csv"
    secret.write_text(CUSTOMERS, encoding="utf-8")
    path = inbox / "customers_20261102.csv"
    path.unlink()
    path.symlink_to(secret)
    skipped = []
    assert discover(inbox, skipped, FileHashes.of_home(tmp_path)) == []
    assert [s.name for s in skipped] == ["customers_20261102.csv"]
