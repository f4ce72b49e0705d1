"""Only demo mode runs with DEBUG; production refuses to start without a secret key."""

from __future__ import annotations

import os
import subprocess
import sys


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"GONGZHI_ENV", "DEBUG", "SECRET_KEY", "DATABASE_URL"}
    }
    clean.update(env)
    code = (
        "import gongzhi.settings as s; print(s.DEBUG, s.GONGZHI_ENV, getattr(s, 'SESSION_COOKIE_SECURE', 0))"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter with a fixed script
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=False
    )


def test_production_without_a_secret_key_refuses_to_start():
    result = load_settings(GONGZHI_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_outside_demo_mode_is_refused():
    result = load_settings(GONGZHI_ENV="production", SECRET_KEY="x" * 50, DEBUG="1")
    assert result.returncode != 0
    assert "DEBUG" in result.stderr


def test_production_uses_secure_cookies():
    result = load_settings(GONGZHI_ENV="production", SECRET_KEY="x" * 50)
    assert result.stdout.split() == ["False", "production", "True"]


def test_demo_mode_has_debug_on():
    assert load_settings(GONGZHI_ENV="demo").stdout.split()[:2] == ["True", "demo"]


def test_database_url_parsing():
    from gongzhi.settings import database_from_url

    pg = database_from_url("postgres://gz:s%40cret@db.local:5433/gongzhi?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "gz",
        "s@cret",
        "db.local",
        "5433",
        "gongzhi",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = database_from_url("sqlite:////srv/gongzhi/db.sqlite3")
    assert lite["NAME"] == "/srv/gongzhi/db.sqlite3"
    assert lite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in lite["OPTIONS"]["init_command"]


def test_meeting_notice_periods_may_be_lengthened_but_not_below_the_law():
    longer = load_settings(GONGZHI_ENV="test", GONGZHI_MEETING_NOTICE_DAYS="joint=5,committee=10")
    assert longer.returncode == 0, longer.stderr
    short = load_settings(GONGZHI_ENV="test", GONGZHI_MEETING_NOTICE_DAYS="committee=3")
    assert short.returncode != 0 and "shorter than the law allows" in short.stderr
    garbled = load_settings(GONGZHI_ENV="test", GONGZHI_MEETING_NOTICE_DAYS="party=2")
    assert garbled.returncode != 0 and "cannot read 'party=2'" in garbled.stderr
