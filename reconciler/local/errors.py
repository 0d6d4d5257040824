"""Notion-shaped API errors raised inside the local Notion and rendered by the WSGI app.

Shape (NOTION-API.md §4.4; REC:RA/test_api_response_error.yaml):
``{"object":"error","status":<http>,"code":"<code>","message":"<text>","request_id":"<uuid>"}``
plus optional ``additional_data``. A 404 ``object_not_found`` names the integration and carries
``additional_data.integration_id`` (REC:RA/test_build_request_error_integration.yaml #0,
REC:UN/test_session/test_get_page_by_id.yaml #2, REC:UN/test_session/test_whoami_get_user.yaml #2).
"""

from __future__ import annotations

from typing import Any

SHARE_HINT = "Make sure the relevant pages and databases are shared with your integration"
USER_HINT = ("Make sure your integration has capabilities to read user information. With those capabilities, "
             "only members and guests in the integration's workspace are visible.")


class NotionError(Exception):
    """An error answered as a Notion error object; ``status``/``code``/``message`` as Notion sends them."""

    def __init__(self, status: int, code: str, message: str, additional_data: dict[str, Any] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.additional_data = additional_data

    def body(self, integration: tuple[str, str] | None = None) -> dict[str, Any]:
        """The error object without ``request_id`` (the app adds it). ``integration`` (name, bot id)
        completes a 404 as Notion words it: ``… shared with your integration "<name>".`` and
        ``additional_data: {"integration_id": <id>}``."""
        message, extra = self.message, self.additional_data
        if self.code == "object_not_found" and integration is not None:
            name, ident = integration
            if message.endswith(SHARE_HINT + "."):
                message = message[:-1] + f' "{name}".'
            extra = {"integration_id": ident, **(extra or {})}
        out: dict[str, Any] = {"object": "error", "status": self.status, "code": self.code, "message": message}
        if extra:
            out["additional_data"] = extra
        return out


def validation(message: str) -> NotionError:
    """400 ``validation_error`` (§4.2: limits; §3.2/§3.4: schema rules)."""
    return NotionError(400, "validation_error", message)


def not_found(kind: str, object_id: str) -> NotionError:
    """404 ``object_not_found`` worded as Notion does (REC:UN/test_session/test_get_page_by_id.yaml #2);
    for users as in REC:UN/test_session/test_whoami_get_user.yaml #2."""
    hint = USER_HINT if kind == "user" else SHARE_HINT + "."
    return NotionError(404, "object_not_found", f"Could not find {kind} with ID: {object_id}. {hint}")


def too_long(path: str, limit: int, actual: int) -> NotionError:
    """Notion's length message: "body failed validation: <path>.length should be ≤ `2000`, instead was `5867`."."""
    return validation(f"body failed validation: {path}.length should be ≤ `{limit}`, instead was `{actual}`.")


def invalid_request_url() -> NotionError:
    """400 ``invalid_request_url`` for unknown routes (REC:RA/test_api_response_error.yaml #0)."""
    return NotionError(400, "invalid_request_url", "Invalid request URL.")
