"""Credentials the cloud-volume way: files, bucket prefixes, CLOUD_VOLUME_DIR, then defaults."""

from __future__ import annotations

import json

import pytest

from precomputed_core.exceptions import CredentialsError
from precomputed_drivers._secrets import candidates, find_secret, secrets_dir
from precomputed_drivers.gcs import google_token
from precomputed_drivers.s3 import S3Store, aws_options

SECRET = "do-not-print-me-1234"


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    """An empty secrets folder under CLOUD_VOLUME_DIR, and no ambient AWS or Google credentials."""
    monkeypatch.setenv("CLOUD_VOLUME_DIR", str(tmp_path / "cv"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "STORAGE_EMULATOR_HOST",
                 "GOOGLE_APPLICATION_CREDENTIALS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    folder = tmp_path / "cv" / "secrets"
    folder.mkdir(parents=True)
    return folder


def _save(folder, name, values):
    (folder / name).write_text(json.dumps(values))


def test_cloud_volume_dir_moves_the_secrets(secrets):
    assert secrets_dir() == secrets
    assert candidates("aws", "abc") == [secrets / "abc-aws-secret.json", secrets / "aws-secret.json"]


def test_a_bucket_prefixed_file_is_for_that_bucket_only(secrets):
    _save(secrets, "aws-secret.json", {"AWS_ACCESS_KEY_ID": "default", "AWS_SECRET_ACCESS_KEY": "s1"})
    _save(secrets, "ABC-aws-secret.json", {"AWS_ACCESS_KEY_ID": "for-abc", "AWS_SECRET_ACCESS_KEY": "s2"})
    assert aws_options("ABC")[0]["key"] == "for-abc"
    assert aws_options("other")[0]["key"] == "default"
    assert "ABC-aws-secret.json" in aws_options("ABC")[1]
    assert S3Store("ABC", "layer")._fs.key == "for-abc"


def test_the_readmes_key_name_and_session_tokens(secrets):
    _save(secrets, "aws-secret.json", {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY_ID": SECRET,
                                       "AWS_SESSION_TOKEN": "tok", "AWS_DEFAULT_REGION": "eu-west-1"})  # fmt: skip
    options, _ = aws_options("bkt")
    assert (options["secret"], options["token"]) == (SECRET, "tok")
    assert options["client_kwargs"] == {"region_name": "eu-west-1"}


def test_environment_then_anonymous(secrets, monkeypatch):
    options, how = aws_options("bkt")
    assert options == {"anon": True}
    assert str(secrets / "bkt-aws-secret.json") in how
    assert str(secrets / "aws-secret.json") in how
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    options, how = aws_options("bkt")
    assert options == {}
    assert "environment" in how


def test_broken_files_name_the_file_not_its_contents(secrets):
    (secrets / "aws-secret.json").write_text('{"AWS_ACCESS_KEY_ID": "' + SECRET)
    with pytest.raises(CredentialsError, match=r"aws-secret\.json is not valid JSON") as caught:
        aws_options("bkt")
    assert SECRET not in str(caught.value)
    _save(secrets, "aws-secret.json", {"AWS_ACCESS_KEY_ID": "id"})
    with pytest.raises(CredentialsError, match="needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        aws_options("bkt")


def test_secrets_never_show(secrets):
    _save(secrets, "aws-secret.json", {"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": SECRET})
    secret = find_secret("aws", "bkt")
    store = S3Store("bkt", "layer")
    for text in (repr(secret), str(secret), repr(store), store.credentials):
        assert SECRET not in text
    assert "aws-secret.json" in repr(secret)


def test_google_order(secrets, monkeypatch):
    token, how = google_token("bkt")
    assert token == "anon"
    assert str(secrets / "google-secret.json") in how
    account = {"type": "service_account", "project_id": "p", "private_key": SECRET, "client_email": "a@b"}
    _save(secrets, "bkt-google-secret.json", account)
    token, how = google_token("bkt")
    assert token == account
    assert SECRET not in how
    assert google_token("elsewhere")[0] == "anon"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    assert google_token("elsewhere") == ("anon", "none (STORAGE_EMULATOR_HOST is set)")


def test_secrets_argument(secrets, tmp_path):
    assert aws_options("bkt", {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})[0]["key"] == "a"
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps({"AWS_ACCESS_KEY_ID": "from-path", "AWS_SECRET_ACCESS_KEY": "b"}))
    assert aws_options("bkt", str(path))[0]["key"] == "from-path"
    with pytest.raises(CredentialsError, match="dict or a file path"):
        aws_options("bkt", 42)
