"""The open ledger of 育才新村's lighting project, as a resident sees it after scanning the QR
code on the posted statement, and the statement the community prints.

Two households pay their share: 王秀英 agrees to be named by her unit, 李建华 does not; the
power company gives support; a subsidy booked by mistake is reversed; the lamps are bought
with the branch's and the committee's approval and paid with a receipt; a smaller payment
still lacks its receipt and another expense waits for approval. The page shows every entry
and that income − expenses is the balance — and not one payer's, approver's or staff
member's name, nor any phone number.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image
from pypdf import PdfReader

from gongzhi.consultations.uploads import clean_document
from gongzhi.core.models import AuditEvent
from gongzhi.orgs.models import Person
from gongzhi.projects import actions, ledger
from gongzhi.projects.models import LedgerEntry, MilestonePhoto, Project, Receipt
from gongzhi.tickets.photos import clean_photo

pytestmark = pytest.mark.django_db

CONSENTING_PAYER = "王秀英"
SILENT_PAYER = "李建华"
LEAD = "张建国"
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def receipt_pdf(label: str) -> Any:
    body = f"%PDF-1.4\n% receipt {label}\n".encode()
    return clean_document(SimpleUploadedFile(f"{label}.pdf", body, content_type="application/pdf"))


def photo(colour: str) -> Any:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return clean_photo(SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png"))


def flat(text: str) -> str:
    return "".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def english(unit: Any) -> str:
    with translation.override("en"):
        return str(unit.address_label)


@pytest.fixture
def world(make_project, users) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    community, branch, committee = users["community"], users["branch"], users["committee"]
    project = make_project(levies=True)
    levy = ledger.set_levy(community, project, total="3000.00")
    shares = list(levy.shares.select_related("unit__building", "unit__entrance").order_by("id"))
    named, silent = shares[0], shares[1]
    ledger.record_income(
        community,
        project,
        source="household",
        amount=named.amount,
        unit=named.unit,
        method="cash",
        payer_name=CONSENTING_PAYER,
        payer_consents=True,
    )
    ledger.record_income(
        community,
        project,
        source="household",
        amount=(silent.amount / 2).quantize(Decimal("0.01")),
        unit=silent.unit,
        method="transfer",
        payer_name=SILENT_PAYER,
        payer_consents=False,
    )
    support = ledger.record_income(
        community,
        project,
        source="member_unit",
        amount="5000",
        organisation=project.member_units.get(),
        receipts=[receipt_pdf("transfer-slip")],
    )
    wrong = ledger.record_income(community, project, source="subsidy", amount="800")
    reversal = ledger.reverse_entry(community, wrong, reason="补贴尚未到账，误录")
    lamps = ledger.submit_expense(
        community,
        project,
        purpose="LED路灯12盏",
        expense_type="materials",
        vendor="岱山县某照明器材店",
        amount="4200",
    )
    ledger.decide_expense(branch, lamps, approve=True)
    ledger.decide_expense(committee, lamps, approve=True)
    paid = ledger.pay_expense(community, lamps, receipts=[receipt_pdf("lamps-invoice")])
    cable = ledger.submit_expense(
        community,
        project,
        purpose="电缆及接头",
        expense_type="materials",
        vendor="岱山县五金店",
        amount="300",
    )
    ledger.decide_expense(branch, cable, approve=True)
    ledger.decide_expense(committee, cable, approve=True)
    ledger.pay_expense(community, cable)
    waiting = ledger.submit_expense(
        community, project, purpose="安装吊车台班", expense_type="equipment", vendor="某吊装队", amount="200"
    )
    lead = Person.objects.create(name=LEAD, phone="13905801234", is_party_member=True)
    actions.add_lead(community, project, lead, "施工监督")
    milestone = actions.add_milestone(community, project, title="更换主路路灯", weight=3)
    actions.add_milestone(community, project, title="线路检修", weight=1)
    today = timezone.localdate()
    actions.report_progress(
        community,
        milestone,
        progress=50,
        photos=[("before", today, photo("black")), ("after", today, photo("white"))],
    )
    actions.open_dispute(
        community, project, title="3幢门口灯杆位置", parties="3幢住户与施工方", issue="灯杆挡住单元门口"
    )
    objection = actions.raise_objection(users["resident"], project, text="路灯太亮，照进卧室")
    actions.answer_objection(branch, objection, answer="已加装遮光罩")
    project.refresh_from_db()
    return {
        "project": project,
        "named": named,
        "silent": silent,
        "support": support,
        "wrong": wrong,
        "reversal": reversal,
        "paid": paid,
        "lamps": lamps,
        "waiting": waiting,
        "milestone": milestone,
    }


def public_page(project: Project, language: str = "en") -> str:
    code = project.compounds.get().code
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get(reverse("public-project", args=[code, project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def people_of(project: Project, users: dict[str, Any]) -> set[str]:
    """Every name attached to the project, looked up independently of the page's code."""
    names = {CONSENTING_PAYER, SILENT_PAYER, LEAD}
    for key in ("community", "branch", "committee", "resident"):
        names |= set(Person.objects.filter(user=users[key]).values_list("name", flat=True))
    for body in (project.branch, project.committee):
        assert body is not None
        names |= set(body.memberships.values_list("person__name", flat=True))
    return {n for n in names if n}


def test_anyone_sees_the_compounds_projects_without_signing_in(world, yucai):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("public-projects", args=[yucai.code]))
    assert response.status_code == 200
    page = response.content.decode()
    project = world["project"]
    assert project.title in page
    assert reverse("public-project", args=[yucai.code, project.pk]) in page
    assert f'data-testid="row-balance">{project.balance}<' in page
    assert "Raising funds and labour" in page


def test_the_consenting_household_is_shown_by_its_unit_and_the_other_as_a_household(world, users):
    page = public_page(world["project"])
    assert english(world["named"].unit) in page
    assert english(world["silent"].unit) not in page
    assert str(world["silent"].unit) not in page
    payers = re.findall(r'data-testid="payer">([^<]*)<', page)
    assert english(world["named"].unit) in payers and "a household" in payers


def test_the_page_names_no_payer_approver_or_staff_and_shows_no_phone(world, users):
    project = world["project"]
    page = public_page(project)
    names = people_of(project, users)
    assert len(names) >= 5
    for name in names:
        assert name not in page, name
    assert not MOBILE.search(page), MOBILE.search(page)
    assert "岱山县某照明器材店" not in page  # nor who was paid
    # The lead is shown by role, surname and party membership.
    leads = page[page.index('data-testid="leads"') :]
    assert "施工监督" in leads and "张某" in leads and "Party member" in leads


def test_the_balance_on_the_page_is_income_minus_expenses(world):
    project = world["project"]
    totals = ledger.totals(project)
    assert totals["balance"] == project.balance
    assert totals["income"] == world["named"].amount + (world["silent"].amount / 2).quantize(
        Decimal("0.01")
    ) + Decimal("5000")  # the reversed subsidy nets to nothing
    page = public_page(project)
    cent = Decimal("0.01")
    income, spent = totals["income"].quantize(cent), totals["expenses"].quantize(cent)
    assert f"{income} − {spent} = {project.balance}" in page
    assert 'data-testid="balanced"' in page and 'data-testid="unbalanced"' not in page
    assert f'data-testid="balance">{project.balance}<' in page
    # Every entry with its balance after it, in order, the last one the fund's balance.
    after = re.findall(r'data-testid="balance-after">([\d.]+)<', page)
    assert after == [str(e.balance_after) for e in project.entries.order_by("seq")]
    assert after[-1] == str(project.balance)


def test_the_reversal_and_the_entry_it_corrects_link_to_each_other(world):
    page = public_page(world["project"])
    wrong, reversal = world["wrong"], world["reversal"]
    entry = page[page.index(f'id="entry-{reversal.seq}"') :]
    assert f'href="#entry-{wrong.seq}"' in entry[: entry.index("</li>")]
    original = page[page.index(f'id="entry-{wrong.seq}"') :]
    assert f'href="#entry-{reversal.seq}"' in original[: original.index("</li>")]


def test_waiting_expenses_and_missing_receipts_are_flagged(world):
    page = public_page(world["project"])
    waiting = page[page.index('data-testid="open-expenses"') :]
    assert "安装吊车台班" in waiting and "200.00" in waiting
    missing = page[page.index('data-testid="missing-receipts"') :]
    assert "电缆及接头" in missing[: missing.index("</ul>")]
    assert "LED路灯12盏" not in missing[: missing.index("</ul>")]


def test_the_levy_is_shown_as_counts_only(world):
    project = world["project"]
    page = public_page(project)
    levy = page[page.index('data-testid="levy"') :]
    stats = re.findall(r'class="stat">(\d+)<', levy)[:3]
    households = project.levy.shares.count()
    assert stats == ["1", "1", str(households - 2)]


def test_an_expense_receipt_is_public_but_an_income_receipt_is_not(world, yucai):
    project = world["project"]
    page = public_page(project)
    lamps = Receipt.objects.get(expense=world["lamps"])
    slip = Receipt.objects.get(entry=world["support"])
    url = reverse("public-project-receipt", args=[yucai.code, project.pk, lamps.pk])
    assert url in page
    response = Client().get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"lamps-invoice" in b"".join(response.streaming_content)
    income_url = reverse("public-project-receipt", args=[yucai.code, project.pk, slip.pk])
    assert income_url not in page
    assert Client().get(income_url).status_code == 404


def test_before_and_after_photos_are_served_with_their_dates(world, yucai):
    project = world["project"]
    page = public_page(project)
    photos = list(MilestonePhoto.objects.filter(milestone=world["milestone"]))
    assert {p.stage for p in photos} == {"before", "after"}
    for p in photos:
        url = reverse("public-project-photo", args=[yucai.code, project.pk, p.pk])
        assert url in page
        assert Client().get(url)["Content-Type"] == "image/png"
    assert "Before" in page and "After" in page and f"{timezone.localdate():%Y-%m-%d}" in page
    assert actions.progress(project) == 37  # (3 × 50 + 1 × 0) / 4, rounded down
    assert "37% done" in page


def test_disputes_objections_and_ratings_are_published_without_names(world, users):
    page = public_page(world["project"])
    disputes = page[page.index('data-testid="dispute"') :]
    assert "3幢门口灯杆位置" in disputes and "Open" in disputes
    assert "灯杆挡住单元门口" not in page and "3幢住户与施工方" not in page  # title and state only
    objection = page[page.index('data-testid="objection"') :]
    assert "路灯太亮，照进卧室" in objection and "已加装遮光罩" in objection


def test_a_project_in_preparation_is_not_public(make_project, users, yucai):
    project = make_project(state=Project.State.PREPARING)
    milestone = actions.add_milestone(users["community"], project, title="方案设计")
    actions.report_progress(
        users["community"], milestone, progress=10, photos=[("before", timezone.localdate(), photo("red"))]
    )
    client = Client()
    assert client.get(reverse("public-project", args=[yucai.code, project.pk])).status_code == 404
    assert (
        client.get(reverse("public-project-statement-pdf", args=[yucai.code, project.pk])).status_code == 404
    )
    picture = MilestonePhoto.objects.get(milestone=milestone)
    assert (
        client.get(reverse("public-project-photo", args=[yucai.code, project.pk, picture.pk])).status_code
        == 404
    )
    listing = client.get(reverse("public-projects", args=[yucai.code])).content.decode()
    assert reverse("public-project", args=[yucai.code, project.pk]) not in listing


def test_a_project_is_public_only_under_its_own_compound(world, yucai):
    from gongzhi.housing.models import Compound

    other = Compound.objects.exclude(pk=yucai.pk).first()
    project = world["project"]
    assert Client().get(reverse("public-project", args=[other.code, project.pk])).status_code == 404


def test_the_staff_statement_names_payers_and_approvers_and_is_a_draft(world, users):
    project = world["project"]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users["community"])
    response = client.get(reverse("project-statement", args=[project.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="draft-band"' in page and 'data-testid="internal"' in page
    assert reverse("project-detail", args=[project.pk]) in page
    assert CONSENTING_PAYER in page and SILENT_PAYER in page
    approvers = [person.name for _user, person, _body in ledger.approvers(project)]
    approvals = page[page.index('data-testid="approvals"') :]
    assert any(name in approvals for name in approvers)
    assert "<svg" in page[page.index('data-testid="qr"') :]
    assert reverse("public-project", args=[project.compounds.get().code, project.pk]) in page
    assert 'data-testid="signatures"' in page
    assert f"{timezone.localdate():%Y-%m-%d}" in page[page.index('data-testid="prepared-on"') :]


def test_a_resident_printing_the_statement_gets_the_public_version(world, users):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users["resident"])
    response = client.get(reverse("project-statement", args=[world["project"].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert CONSENTING_PAYER not in page and SILENT_PAYER not in page
    assert english(world["named"].unit) in page and english(world["silent"].unit) not in page
    assert 'data-testid="internal"' not in page


def test_the_statement_needs_a_login_and_the_project_in_scope(world):
    url = reverse("project-statement", args=[world["project"].pk])
    assert Client().get(url).status_code == 302
    outsider = Client()
    outsider.force_login(get_user_model().objects.create_user("outsider", password="x"))
    assert outsider.get(url).status_code == 403
    assert outsider.get(reverse("project-statement-pdf", args=[world["project"].pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="projects.statement.export").exists()


def test_the_compound_page_links_to_its_projects(world, yucai):
    response = Client().get(reverse("public-compound", args=[yucai.code]))
    assert reverse("public-projects", args=[yucai.code]) in response.content.decode()


def test_the_staff_statement_pdf_reads_in_chinese_and_is_logged_as_an_export(world, users):
    project = world["project"]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(users["community"])
    response = client.get(reverse("project-statement-pdf", args=[project.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in (project.title, "LED路灯12盏", CONSENTING_PAYER, str(project.balance), project.code):
        assert flat(expected) in text, expected
    event = AuditEvent.objects.get(action="projects.statement.export", object_id=str(project.pk))
    assert event.kind == AuditEvent.Kind.EXPORT and event.actor == users["community"]
    assert event.after["draft"] is True and event.after["public"] is False


def test_the_public_statement_pdf_has_the_pages_redaction(world, users, yucai):
    project = world["project"]
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("public-project-statement-pdf", args=[yucai.code, project.pk])
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert flat(english(world["named"].unit)) in text
    assert flat(english(world["silent"].unit)) not in text
    for name in people_of(project, users):
        assert name not in text, name
    assert not MOBILE.search(text)
    assert flat("income − expenses = balance") in text.lower() or "−" in text
    assert not AuditEvent.objects.filter(action="projects.statement.export").exists()


def test_the_public_pages_run_a_bounded_number_of_queries(world, users, yucai, django_assert_max_num_queries):
    project = world["project"]
    client = Client()
    url = reverse("public-project", args=[yucai.code, project.pk])
    entries = project.entries.count()
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    # More of everything: contributions, expenses with approvals and receipts, photos.
    community = users["community"]
    for share in list(project.levy.shares.select_related("unit").order_by("id"))[2:7]:
        ledger.record_income(
            community, project, source="household", amount=share.amount, unit=share.unit, method="cash"
        )
    for n in range(3):
        expense = ledger.submit_expense(
            community, project, purpose=f"灯泡{n}", expense_type="materials", vendor="五金店", amount="10"
        )
        ledger.decide_expense(users["branch"], expense, approve=True)
        ledger.decide_expense(users["committee"], expense, approve=True)
        ledger.pay_expense(community, expense, receipts=[receipt_pdf(f"bulb-{n}")])
    milestone = actions.add_milestone(community, project, title="验收", weight=1)
    actions.report_progress(
        community, milestone, progress=100, photos=[("after", timezone.localdate(), photo("blue"))]
    )
    assert LedgerEntry.objects.filter(project=project).count() == entries + 8
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(reverse("public-projects", args=[yucai.code])).status_code == 200
