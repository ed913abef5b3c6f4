"""The `web:` section of config.yaml."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from engine.settings import Strict


class WebSettings(Strict):
    public_url: HttpUrl = Field(default=HttpUrl("http://127.0.0.1:8000"),
                                description="where candidates reach `sima serve`; invitation links start with it")
    session_hours: float = Field(default=12, gt=0, le=24 * 30, description="a recruiter login lasts this long")
    login_attempts: int = Field(default=5, ge=1, le=100,
                                description="failed logins per address (and per user name) per window")
    login_window_minutes: float = Field(default=15, gt=0, le=24 * 60)
    secure_cookies: bool = Field(default=False, description="mark cookies Secure (set when served over HTTPS)")
