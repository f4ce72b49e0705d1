"""The Open311 GeoReport v2 endpoints under ``/open311/v2/``.

The format is the URL's suffix (``services.json``; none means XML, the spec's required
format). Reading needs no key; filing a request or posting an update needs a partner's
``api_key``. These views are a machine API: they take no session and no CSRF token.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gongzhi.core import ratelimit
from gongzhi.core.audit import client_ip
from gongzhi.tickets import actions, apikeys
from gongzhi.tickets.models import ApiKey, CategoryQuestion, Ticket
from gongzhi.tickets.open311 import params as P
from gongzhi.tickets.open311 import public, render, updates
from gongzhi.tickets.open311.params import Open311Error
from gongzhi.tickets.open311.place import named_place
from gongzhi.tickets.open311.render import Many

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_IDEMPOTENCY_KEY = 200
MAX_UPDATE_ID = 100

View = Callable[..., HttpResponse]


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field}: {message}" for field, messages in error.message_dict.items() for message in messages
        ]
    return list(error.messages)


def endpoint(*methods: str) -> Callable[[View], View]:
    """Format from the URL, method check, and every failure as the spec's error list."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def run(request: HttpRequest, fmt: str | None = None, **kwargs: Any) -> HttpResponse:
            name = (fmt or "xml").lower()
            if name not in render.FORMATS:
                return render.errors("xml", 400, [f"Unknown format {fmt!r}: use .xml or .json."])
            if request.method not in allowed:
                response = render.errors(name, 405, [f"{request.method} is not allowed here."])
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, name, **kwargs)
            except Open311Error as error:
                response = render.errors(name, error.status, error.descriptions)
                for header, value in error.headers.items():
                    response[header] = value
                return response
            except ValidationError as error:
                return render.errors(name, 400, _messages(error))

        return csrf_exempt(run)

    return wrap


def _absolute(request: HttpRequest) -> Callable[[str], str]:
    base = settings.GONGZHI_PUBLIC_URL.rstrip("/")
    return (lambda path: base + path) if base else request.build_absolute_uri


def _api_key(request: HttpRequest) -> ApiKey:
    # The key belongs in the form body; some older clients put it in the query string.
    raw = P.value(request.POST, "api_key") or P.value(request.GET, "api_key")
    if not raw:
        raise Open311Error(403, "An api_key is required to post.")
    key = apikeys.verify(raw)
    if key is None:
        raise Open311Error(403, "The api_key is not valid or has been revoked.")
    return key


def _uploads(request: HttpRequest) -> list[UploadedFile]:
    return [upload for name in request.FILES for upload in request.FILES.getlist(name)]


# --------------------------------------------------------------------------- discovery, services


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Service discovery. The changeset is the current day, so clients refresh cached
    service lists and definitions daily (categories carry no change time of their own)."""
    changeset = public.w3(timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min)))
    base = _absolute(request)(reverse("open311-root")).rstrip("/")
    body = {
        "changeset": changeset,
        "contact": f"{settings.GONGZHI_NAME}: {settings.DEFAULT_FROM_EMAIL}",
        "key_service": _("API keys are issued by the county administrators (gongzhi open311-key create)."),
        "endpoints": Many(
            "endpoint",
            [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": changeset,
                    "type": "production" if settings.GONGZHI_ENV == "production" else "test",
                    "formats": Many("format", [render.FORMATS["xml"].split(";")[0], "application/json"]),
                }
            ],
        ),
    }
    return render.document(fmt, "discovery", body)


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return render.document(fmt, "services", Many("service", public.service_rows()))


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = public.public_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"service_code {code!r} was not found.")
    return render.document(fmt, "service_definition", public.definition(category))


# --------------------------------------------------------------------------- requests


@endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _file_request(request, fmt)
    return _list_requests(request, fmt)


def _list_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """Filters: service_request_id (overrides the rest), service_code, status, start_date,
    end_date; the page/page_size extension. Newest first, 1,000 at most."""
    query = request.GET
    tickets = public.public_tickets()
    wanted = P.ids(query)
    if wanted is not None:
        tickets = tickets.filter(pk__in=wanted).order_by("-id")
    else:
        statuses = [status.lower() for status in P.comma_list(query, "status")]
        unknown = [status for status in statuses if status not in (public.OPEN, public.CLOSED)]
        if unknown:
            raise Open311Error(400, f"status must be open or closed, not {', '.join(unknown)!r}.")
        window = P.window(query, timezone.now())
        page = P.page(query)
        tickets = tickets.filter(created_at__gte=window.start, created_at__lte=window.end)
        codes = P.comma_list(query, "service_code")
        if codes:
            tickets = tickets.filter(category__code__in=codes)
        if statuses:
            tickets = tickets.filter(state__in=public.states_for(statuses))
        tickets = tickets.order_by("-created_at", "-id")[page.offset : page.offset + page.size]
    rows = public.ticket_rows(public.with_public_facts(tickets), _absolute(request))
    return render.document(fmt, "service_requests", Many("request", rows))


def _full_name(first: str, last: str) -> str:
    # Chinese names are written family name first and without a space.
    if first and last and not (first + last).isascii():
        return last + first
    return " ".join(part for part in (first, last) if part)


def _idempotency_key(request: HttpRequest, key: ApiKey) -> str | None:
    """The client's ``Idempotency-Key`` header (or ``idempotency_key`` field), kept per
    partner: two partners using the same key text never meet."""
    raw = (request.headers.get("Idempotency-Key") or P.value(request.POST, "idempotency_key")).strip()
    if not raw:
        return None
    if len(raw) > MAX_IDEMPOTENCY_KEY:
        raise Open311Error(400, f"The idempotency key may be at most {MAX_IDEMPOTENCY_KEY} characters.")
    return "o311-" + hashlib.sha256(f"{key.pk}:{raw}".encode()).hexdigest()[:59]


def _check_rate(request: HttpRequest, phone: str) -> None:
    per_ip, per_phone, window = settings.GONGZHI_INTAKE_RATE
    busy = Open311Error(
        429, "Too many requests filed from here; try again later.", headers={"Retry-After": str(window)}
    )
    if not ratelimit.hit("open311-ip", client_ip(request) or "unknown", per_ip, window):
        raise busy
    if phone and not ratelimit.hit("open311-phone", phone, per_phone, window):
        raise busy


def _file_request(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST Service Request: a new ticket on the ``open311`` channel, filed without an
    account; nothing the reporter gives about themselves is ever shown by this endpoint."""
    key = _api_key(request)
    form = request.POST
    phone = P.value(form, "phone")
    _check_rate(request, phone)
    code = P.value(form, "service_code")
    if not code:
        raise Open311Error(400, "service_code is required.")
    category = public.public_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"service_code {code!r} was not found.")
    lat, long, address = P.location(form)
    compound, building = named_place(address)
    email = P.value(form, "email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, "email is not a valid e-mail address.") from None
    questions = list(category.questions.all())
    answers = P.attributes(form, [q.code for q in questions if q.datatype == CategoryQuestion.Datatype.MULTI])
    for question in questions:
        if question.datatype == CategoryQuestion.Datatype.DATETIME and question.code in answers:
            field = f"attribute[{question.code}]"
            P.datetime_param({field: answers[question.code]}, field)
    ticket = actions.file_ticket(
        None,
        channel=Ticket.Channel.OPEN311,
        category=category,
        description=form.get("description", ""),
        compound=compound,
        building=building,
        address_text=address,
        lat=lat,
        long=long,
        reporter_name=_full_name(P.value(form, "first_name"), P.value(form, "last_name")),
        reporter_phone=phone,
        reporter_email=email,
        anonymous=True,
        attributes=answers,
        photos=_uploads(request),
        idempotency_key=_idempotency_key(request, key),
    )
    row = {
        "service_request_id": str(ticket.pk),
        "service_notice": public.service_notice(ticket.time_limit),
        "account_id": None,
    }
    return render.document(fmt, "service_requests", Many("request", [row]))


@endpoint("GET")
def service_request(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    number = P.as_id(request_id)
    tickets = public.public_tickets().filter(pk=number) if number is not None else Ticket.objects.none()
    rows = public.ticket_rows(public.with_public_facts(tickets), _absolute(request))
    if not rows:
        raise Open311Error(404, f"service_request_id {request_id!r} was not found.")
    return render.document(fmt, "service_requests", Many("request", rows))


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    ticket = public.public_tickets().filter(token=token).only("pk", "token").first()
    if ticket is None:
        raise Open311Error(404, f"token {token!r} was not found.")
    row = {"service_request_id": str(ticket.pk), "token": ticket.token}
    return render.document(fmt, "service_requests", Many("request", [row]))


# --------------------------------------------------------------------------- updates (mySociety)


@endpoint("GET", "POST")
def service_request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_update(request, fmt)
    window = P.window(request.GET, timezone.now())
    page = P.page(request.GET)
    events = public.update_events(window.start, window.end)
    rows = public.update_rows(events[page.offset : page.offset + page.size], _absolute(request))
    return render.document(fmt, "service_request_updates", Many("request_update", rows))


def _post_update(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _api_key(request)
    form = request.POST
    missing = [name for name in ("service_request_id", "update_id") if not P.value(form, name)]
    if missing:
        raise Open311Error(400, *(f"{name} is required." for name in missing))
    update_id = P.value(form, "update_id")
    if len(update_id) > MAX_UPDATE_ID:
        raise Open311Error(400, f"update_id may be at most {MAX_UPDATE_ID} characters.")
    request_id = P.value(form, "service_request_id")
    number = P.as_id(request_id)
    ticket = public.public_tickets().filter(pk=number).first() if number is not None else None
    if ticket is None:
        raise Open311Error(404, f"service_request_id {request_id!r} was not found.")
    status = P.value(form, "status").upper()
    if status and status not in updates.PARTNER_STATUSES:
        raise Open311Error(
            400, f"status {status!r} is not one of {', '.join(sorted(updates.PARTNER_STATUSES))}."
        )
    event = updates.post_update(
        key,
        ticket,
        update_id=update_id,
        description=form.get("description", ""),
        status=status,
        updated_at=P.datetime_param(form, "updated_datetime"),
        photos=_uploads(request),
    )
    return render.document(
        fmt, "service_request_updates", Many("request_update", [{"update_id": str(event.pk)}])
    )


# --------------------------------------------------------------------------- photos, unknown paths


def media(request: HttpRequest, photo: str, digest: str, ext: str) -> HttpResponse | FileResponse:
    """A photo from a public event, as ``media_url`` points to it."""
    if request.method not in ("GET", "HEAD"):
        response = render.errors("xml", 405, [f"{request.method} is not allowed here."])
        response["Allow"] = "GET, HEAD"
        return response
    number = P.as_id(photo)
    found = public.public_photo(number, digest, ext) if number is not None else None
    if found is None:
        return render.errors("xml", 404, ["No such photo."])
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        return render.errors("xml", 404, ["No such photo."])
    photo_response = FileResponse(handle, content_type=found.content_type)
    photo_response["Cache-Control"] = "public, max-age=3600"
    return photo_response


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    fmt = "json" if path.lower().endswith(".json") else "xml"
    return render.errors(fmt, 404, [f"No such resource {path!r}; the list of resources is at discovery.xml."])
