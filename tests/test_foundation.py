"""The frame every later feature stands on: settings, sign-in, health, encryption, demo seeding."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from access.models import CloudProject
from backups import demo

REPO = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-like-secret-key-that-is-long-and-random-0123456789abcdef",
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWtleS0tLS0tLS0tLS0tLS0tLS0tLS0=",
    "ALLOWED_HOSTS": "backups.example.com",
    "PATH": os.environ["PATH"],
}


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_an_encryption_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "FIELD_ENCRYPTION_KEYS"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "Set FIELD_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.django_db
def test_sign_in_page_is_served(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content


@pytest.mark.django_db
def test_pages_need_a_signed_in_user(client):
    response = client.get(reverse("backups:overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_health_probe_answers_without_a_known_host_or_https(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_cloud_password_is_encrypted_at_rest():
    project = CloudProject.objects.create(
        name="p",
        region="eu-de",
        project_id="p1",
        iam_endpoint="https://iam.example",
        geminidb_endpoint="https://g.example",
        iam_domain="d",
        iam_user="u",
        iam_password="s3cret-password",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT iam_password FROM backups_cloudproject WHERE id = %s", [project.pk])
        stored = cursor.fetchone()[0]
    assert "s3cret" not in stored
    assert CloudProject.objects.get(pk=project.pk).iam_password == "s3cret-password"


def test_demo_seeding_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(ImproperlyConfigured):
        demo.seed_demo()


@pytest.mark.django_db
@override_settings(DEMO_MODE=True, GEMINIDB_SIMULATOR_URL="http://127.0.0.1:8001")
def test_demo_seeding_creates_users_who_can_sign_in(client):
    demo.seed_demo()
    demo.seed_demo()  # running it twice (every `make run`) changes nothing
    assert CloudProject.objects.count() == len(demo.DEMO_PROJECTS)
    response = client.post(reverse("login"), {"username": "operator", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    response = client.get(reverse("backups:overview"))
    assert b"eu-de_demo" in response.content


@pytest.mark.django_db
def test_encryption_key_rotation_re_encrypts_with_the_new_key(settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from access import fields

    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    project = CloudProject.objects.create(
        name="p", region="eu-de", project_id="p1", iam_endpoint="https://iam.example", geminidb_endpoint="https://g.example",
        iam_domain="d", iam_user="u", iam_password="s3cret-password",
    )  # fmt: skip
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    fields._fernet.cache_clear()
    try:
        call_command("rotate_encryption_key", stdout=open(os.devnull, "w"))  # noqa: SIM115
        settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone now
        fields._fernet.cache_clear()
        assert CloudProject.objects.get(pk=project.pk).iam_password == "s3cret-password"
    finally:
        settings.FIELD_ENCRYPTION_KEYS = [old_key]
        fields._fernet.cache_clear()
