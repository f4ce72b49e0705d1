"""Repeated wrong passwords are slowed down, per address and per account name."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from gongzhi.demo.seed import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(GONGZHI_LOGIN_RATE=(3, 900))
def test_after_three_failures_even_the_right_password_waits(demo_county):
    client = Client()
    for _ in range(3):
        assert client.post("/login/", {"username": "town", "password": "wrong-password"}).status_code == 200
    blocked = client.post("/login/", {"username": "town", "password": DEMO_PASSWORD})
    assert blocked.status_code == 429
    assert "登录尝试次数过多" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(GONGZHI_LOGIN_RATE=(3, 900))
def test_another_address_is_blocked_for_the_same_account(demo_county):
    for _ in range(3):
        Client(REMOTE_ADDR="10.0.0.1").post("/login/", {"username": "town", "password": "wrong-password"})
    response = Client(REMOTE_ADDR="10.0.0.2").post("/login/", {"username": "town", "password": DEMO_PASSWORD})
    assert response.status_code == 429


@override_settings(GONGZHI_LOGIN_RATE=(3, 900))
def test_a_successful_sign_in_below_the_limit_works(demo_county):
    client = Client()
    client.post("/login/", {"username": "town", "password": "wrong-password"})
    response = client.post("/login/", {"username": "town", "password": DEMO_PASSWORD})
    assert response.status_code == 302
