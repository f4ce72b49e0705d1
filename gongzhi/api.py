"""The REST API, mounted at ``/api/v1/``: one NinjaAPI, one error shape, two ways in.

Every error any route returns has the same body, ``ErrorOut``::

    {"detail": "what went wrong", "errors": [{"field": "description", "message": "…"}]}

in the language of the request (``Accept-Language`` or the language cookie). The handlers
below turn what the actions raise into it: a Django ``ValidationError`` is 400 (one entry
per field), ``actions.Refused`` (the workflow or a concurrent change said no) is 409,
``PermissionDenied`` is 403 and ``Http404`` is 404; bad parameters are 400 as well, with
pydantic's complaints put in the same words the pages use.

Staff and residents use their signed-in session (with Django's CSRF token on POST);
partner systems send ``X-Api-Key`` and may only file requests and read their public status.
The docs page uses the Swagger UI files bundled with django-ninja, served as our own static
files: no page of the API loads anything from another host.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TypeVar

import pydantic
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as ParamsError
from ninja.security import APIKeyHeader, SessionAuth

from gongzhi.tickets import actions
from gongzhi.tickets.apikeys import verify
from gongzhi.tickets.models import ApiKey


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """The body of every 4xx response of the API."""

    detail: str
    errors: list[ErrorItem]


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the error statuses a route can return, all ``ErrorOut``."""
    return dict.fromkeys(codes, ErrorOut)


class TooManyRequests(Exception):
    """Raised by a route when the caller is over a rate limit; becomes 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


# --------------------------------------------------------------------------- bodies with photos

S = TypeVar("S", bound=Schema)


def read_body(request: HttpRequest, schema: type[S]) -> tuple[S, list[UploadedFile]]:
    """The body as ``schema``, from JSON or from a multipart form, whose ``photos`` files are
    returned alongside. In a form, ``attributes`` is a JSON object in one field. Invalid input
    raises a ValidationError, which the handlers below turn into a 400 naming the fields."""
    files: list[UploadedFile] = []
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data: Any = {}
        for key in request.POST:
            if key == "csrfmiddlewaretoken":
                continue
            value: Any = request.POST.getlist(key)[-1]
            if key == "attributes":
                try:
                    value = json.loads(value or "{}")
                except ValueError:
                    raise ValidationError({key: _("Send a JSON object here.")}) from None
            data[key] = value
        for key in request.FILES:
            if key != "photos":
                raise ValidationError({key: _("Unknown field.")})
        files = request.FILES.getlist("photos")
    else:
        try:
            data = json.loads(request.body or b"null")
        except ValueError:
            raise ValidationError(_("The body is not valid JSON.")) from None
    return schema.model_validate(data), files


def body_docs(schema: type[Schema], *, photos: bool) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its body with ``read_body``: the JSON schema,
    and with ``photos`` the same fields as a multipart form."""
    as_json = schema.model_json_schema()
    content: dict[str, Any] = {"application/json": {"schema": as_json}}
    if photos:
        form = json.loads(json.dumps(as_json))
        properties = form.setdefault("properties", {})
        if "attributes" in properties:
            properties["attributes"] = {"type": "string", "description": "A JSON object."}
        properties["photos"] = {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "JPEG, PNG or WebP photos; their metadata is removed.",
        }
        content["multipart/form-data"] = {"schema": form}
    return {"requestBody": {"required": True, "content": content}}


# --------------------------------------------------------------------------- who is calling


class PartnerKey(APIKeyHeader):
    """A partner system's key in the ``X-Api-Key`` header; ``request.auth`` is its ApiKey."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if not key:
            return None
        return verify(key)


class UserSession(SessionAuth):
    """A signed-in user's session cookie; unsafe methods need the CSRF token as well."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


# The key is tried first: a partner system sends no session and no CSRF token.
PARTNER_OR_SESSION = [PartnerKey(), UserSession()]
SESSION = [UserSession()]


# --------------------------------------------------------------------------- the docs page


class OfflineSwagger(Swagger):
    """Swagger UI from the static files bundled with django-ninja, never from a CDN.

    django-ninja falls back to a CDN page when ``ninja`` is not an installed app; this page
    refuses to (the template is then missing and the page fails loudly instead).
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {"swagger_settings": json.dumps(settings, indent=1), "api": api, "add_csrf": True}
        return render(request, self.template, context)


api = NinjaAPI(
    title="Gongzhi API",
    version="1.0",
    description=(
        "Resident requests of the Gongzhi co-governance platform. Staff and residents use "
        "their signed-in session (with the CSRF token on POST); partner systems send their "
        "key in the X-Api-Key header and may file requests and read their public status."
    ),
    urls_namespace="api-v1",
    docs=OfflineSwagger(),
    docs_url="/docs",
)


# --------------------------------------------------------------------------- errors


def error_response(
    request: HttpRequest, status: int, detail: str, items: Iterable[tuple[str, str]] = ()
) -> HttpResponse:
    body = {"detail": detail, "errors": [{"field": f, "message": m} for f, m in items]}
    return api.create_response(request, body, status=status)


def _django_items(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            ("" if field == NON_FIELD_ERRORS else field, str(message))
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [("", str(message)) for message in exc.messages]


def _pydantic_message(error: Any) -> str:
    """One pydantic complaint in the words (and the translations) Django's forms use."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "?"
        return _("At most %(n)s characters (this has %(m)s).") % {"n": ctx.get("max_length"), "m": length}
    if kind == "string_too_short":  # every minimum length in our schemas is 1
        return _("This field is required.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"):
        return _("Enter a number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Enter true or false.")
    if kind == "greater_than_equal":
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("ge")
        }
    if kind == "less_than_equal":
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("le")
        }
    if kind in ("literal_error", "enum"):
        return _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": value}
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _("Send a JSON object here.")
    if kind == "list_type":
        return _("Send a list here.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    return _("Enter a valid value.")


# Where ninja says a parameter came from; the field name the caller knows follows it.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
        # A schema-typed parameter adds its own name; the caller never sees it.
        if len(parts) > 1 and parts[0] in ("payload", "params"):
            parts = parts[1:]
        elif parts in (["payload"], ["params"]):
            parts = []
    return ".".join(parts)


def pydantic_items(raw: Iterable[Any]) -> list[tuple[str, str]]:
    return [(_field_name(e.get("loc", ())), _pydantic_message(e)) for e in raw]


def _first(items: list[tuple[str, str]], fallback: str) -> str:
    return items[0][1] if items else fallback


@api.exception_handler(ValidationError)
def _on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    items = _django_items(exc)
    return error_response(request, 400, _first(items, _("Enter a valid value.")), items)


@api.exception_handler(actions.Refused)
def _on_refused(request: HttpRequest, exc: actions.Refused) -> HttpResponse:
    items = _django_items(exc)
    return error_response(request, 409, " ".join(m for _f, m in items), [(f, m) for f, m in items if f])


@api.exception_handler(ParamsError)
def _on_bad_params(request: HttpRequest, exc: ParamsError) -> HttpResponse:
    items = pydantic_items(exc.errors)
    return error_response(request, 400, _first(items, _("Enter a valid value.")), items)


@api.exception_handler(pydantic.ValidationError)
def _on_bad_body(request: HttpRequest, exc: pydantic.ValidationError) -> HttpResponse:
    items = pydantic_items(exc.errors(include_url=False))
    return error_response(request, 400, _first(items, _("Enter a valid value.")), items)


@api.exception_handler(RequestDataTooBig)
def _on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 400, _("The request is too large."))


@api.exception_handler(PermissionDenied)
def _on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, _("Not allowed"))


@api.exception_handler(Http404)
def _on_missing(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, _("No such record."))


@api.exception_handler(OverflowError)
def _on_overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An id too large for the database cannot name a record.
    return error_response(request, 404, _("No such record."))


@api.exception_handler(AuthenticationError)
def _on_anonymous(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, _("Sign in, or send a partner key in the X-Api-Key header."))


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # The one HttpError ninja raises on its own before a route runs: a failed CSRF check.
    if exc.status_code == 403:
        return error_response(request, 403, _("CSRF verification failed. Request aborted."))
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(TooManyRequests)
def _on_too_many(request: HttpRequest, exc: TooManyRequests) -> HttpResponse:
    response = error_response(
        request, 429, _("Too many requests from here in a short time. Please try again later.")
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


# The routers import the names above and mount themselves on ``api``; a plain import (not
# ``from … import``) keeps this working whichever of the two modules is imported first.
import gongzhi.tickets.api  # noqa: E402, F401, I001
