"""CSRF protection for the pages' forms: a random token in a SameSite cookie, repeated in the form."""

from __future__ import annotations

import secrets

from fastapi import Request

CSRF_COOKIE = "nw_csrf"


class CSRFError(Exception):
    """A state-changing browser request without our CSRF token."""


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matches the cookie; raises CSRFError otherwise."""
    form = await request.form()
    sent, cookie = str(form.get("csrf_token", "")), request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not secrets.compare_digest(sent, cookie):
        raise CSRFError
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}
