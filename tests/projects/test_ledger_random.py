"""Thousands of fund operations in a seeded random order, checked against a model of the
fund kept here in plain Python, and the cost split by area checked by properties.

Three road projects of compound X in the small county of ``tests/policy_world`` need 1, 2
and 4 approvals for an expense. Community A1's staff (``community_staff``) record money,
submit, pay and reverse; four members of X's joint branch and owners' committee have
accounts and approve (two of them may also submit, and then never approve their own);
a member who left the committee, the staff, a grid worker and a volunteer try to approve as well.
Money comes from every source, sometimes with a bad amount, from a household outside the project,
from a body that is no member unit, or from the maintenance fund without a passed decision.

The model predicts every outcome — done, refused (ValidationError) or forbidden
(PermissionDenied) — before the operation runs; after each step the balance, the number of
entries, the expenses' states and the approvals must equal the model's, so a refused
operation changed nothing. Every ``FULL_CHECK`` steps (and at the end) the whole ledger is
read back: sequence numbers without gaps, each running balance equal to the one before plus
the entry and never negative, the balance equal to income − expenses, each reversal the
mirror of exactly one entry, each paid expense one unreversed payment with enough approvals,
none by its submitter.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.utils import timezone
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gongzhi.decisions.models import Decision, Result
from gongzhi.orgs.models import Membership, Organisation, Person, Role, RoleGrant
from gongzhi.projects import actions, ledger, sharing
from gongzhi.projects.models import Expense, LedgerEntry, Project
from tests.policy_world import World, build_world, seat_approvers

SEED = 20270301
STEPS = 3300
FULL_CHECK = 300
NEEDED = (1, 2, 4)
E = Expense.State
Src = LedgerEntry.Source
AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
LIMIT = Decimal("10000000")


# ---- the model ----------------------------------------------------------------------------------


@dataclass
class Row:
    seq: int
    direction: str
    amount: Decimal  # as stored: the opposite of the original for a reversal
    reverses: int | None = None  # the seq it reverses
    expense: int | None = None

    @property
    def signed(self) -> Decimal:
        return self.amount if self.direction == "income" else -self.amount


@dataclass
class Spend:
    amount: Decimal
    submitter: int
    state: str = E.SUBMITTED
    said: set[int] = field(default_factory=set)
    yes: int = 0


@dataclass
class Book:
    """What the fund of one project must hold, worked out without the code under test."""

    project: Project
    needed: int
    rows: list[Row] = field(default_factory=list)
    spends: dict[int, Spend] = field(default_factory=dict)
    reversed: set[int] = field(default_factory=set)

    @property
    def balance(self) -> Decimal:
        return sum((row.signed for row in self.rows), Decimal("0.00"))

    @property
    def committed(self) -> Decimal:
        return sum((s.amount for s in self.spends.values() if s.state in Expense.OPEN), Decimal("0.00"))

    def append(self, direction: str, amount: Decimal, **links: Any) -> None:
        self.rows.append(Row(len(self.rows) + 1, direction, amount, **links))


def amount_of(text: str) -> Decimal | None:
    """The amount a form field holds if it is a valid one, by the rules of the fund."""
    if not AMOUNT.match(text):
        return None
    value = Decimal(text)
    return value if Decimal("0") < value <= LIMIT else None


def fen_text(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


BAD_AMOUNTS = ("0", "0.00", "-12.50", "3.141", "十元", "", "10000000.01", "NaN")


# ---- the world ----------------------------------------------------------------------------------


@dataclass
class Fund:
    world: World
    books: list[Book]
    staff: Any
    approvers: list[Any]
    submitters: list[Any]
    outsiders: list[Any]  # accounts that see the project but have no seat
    volunteer: Any
    units_in: list[Any]
    unit_out: Any
    givers: list[Organisation]  # member units, and one body that is not
    decision: Decision
    draft: Decision
    emergencies: dict[int, Any]


T0 = timezone.now() - dt.timedelta(days=30)


def former_member(w: World) -> Any:
    """An account for someone who has left X's owners' committee: no longer an approver."""
    user = get_user_model().objects.create_user(username="rf_former", password="x-not-used-1")  # noqa: S106
    RoleGrant.objects.create(user=user, role=Role.COMMITTEE_MEMBER, compound=w.get("compound", "X"))
    person = Person.objects.create(name="former", user=user, home_area=w.area("A1"))
    Membership.objects.create(
        organisation=w.get("organisation", "X.committee"), person=person, left_on=T0.date()
    )
    return user


@pytest.fixture
def fund(db: Any) -> Fund:
    w = build_world()
    x = w.get("compound", "X")
    branch, committee = w.get("organisation", "X.branch"), w.get("organisation", "X.committee")
    staff = w.users["community_staff"]
    approvers = seat_approvers(w)
    former = former_member(w)
    party_org = Organisation.objects.get(kind=Organisation.Kind.PARTY_ORG, area=w.area("A1"))
    books = []
    for needed in NEEDED:
        project = actions.create_project(
            staff,
            party_org=party_org,
            title=f"X小区道路修补（{needed}人审批）",
            kind=Project.Kind.ROADS,
            summary="修补破损路面和排水沟",
            compounds=[x],
            branch=branch,
            committee=committee,
            member_units=[w.get("organisation", "power")],
            approvals_required=needed,
            tickets=[w.get("ticket", "X.t1")],
            now=T0,
        )
        books.append(Book(actions.move(staff, project, Project.State.RAISING, now=T0), needed))
    decision = Decision.objects.create(
        compound=x, matter=5, title="动用维修资金", text="修路", area_path=x.area_path, state="published"
    )
    Result.objects.create(
        decision=decision, figures={}, approved=True, chain_head="", chain_length=0, counted_at=T0
    )
    emergencies = {
        book.project.pk: ledger.confirm_emergency(
            w.users["town_staff"],
            book.project,
            hazard="pipes",
            description="排水管爆裂",
            reference="镇确认1号",
        )
        for book in books
    }
    return Fund(
        world=w,
        books=books,
        staff=staff,
        approvers=approvers,
        submitters=[staff, staff, staff, approvers[0], approvers[2]],
        outsiders=[former, staff, w.users["volunteer"], w.users["grid_worker"]],
        volunteer=w.users["volunteer"],
        units_in=[w.get("unit", "X.u1"), w.get("unit", "X.u2")],
        unit_out=w.get("unit", "Y.u1"),
        givers=[w.get("organisation", "power"), w.get("organisation", "water"), committee],
        decision=decision,
        draft=w.get("decision", "X.vote"),
        emergencies=emergencies,
    )


# ---- the operations -----------------------------------------------------------------------------

OK, REFUSED, DENIED = "done", "refused", "forbidden"


def run(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return OK, call()
    except ValidationError as error:
        return REFUSED, error
    except PermissionDenied as error:
        return DENIED, error


class History:
    def __init__(self, fund: Fund, rng: random.Random) -> None:
        self.fund, self.rng = fund, rng
        self.tally: Counter[tuple[str, str]] = Counter()
        self.step = 0

    @property
    def now(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=10 * self.step)

    def money(self, low_fen: int, high_fen: int) -> str:
        if self.rng.random() < 0.06:
            return self.rng.choice(BAD_AMOUNTS)
        return fen_text(self.rng.randint(low_fen, max(low_fen, high_fen)))

    def pick_spend(self, book: Book, state: str) -> tuple[int, Spend] | None:
        if not book.spends:
            return None
        wanted = [(pk, s) for pk, s in book.spends.items() if s.state == state]
        if wanted and self.rng.random() < 0.85:
            return self.rng.choice(wanted)
        return self.rng.choice(list(book.spends.items()))

    # Each operation returns (name, predicted outcome, call, what to do with the model if done).

    def income(self, book: Book) -> tuple[str, str, Callable[[], Any], Callable[[Any], None]]:
        f, rng = self.fund, self.rng
        source = rng.choice(Src.values)
        text = self.money(1, 300_000)
        value = amount_of(text)
        extra: dict[str, Any] = {}
        valid = value is not None
        if source == Src.HOUSEHOLD:
            unit = rng.choice([*f.units_in, *f.units_in, f.unit_out])
            extra = {"unit": unit, "method": rng.choice(["cash", "transfer"]), "payer_consents": True}
            valid &= unit in f.units_in
        elif source == Src.MEMBER_UNIT:
            giver = rng.choice(f.givers)
            extra = {"organisation": giver}
            valid &= giver.kind == Organisation.Kind.MEMBER_UNIT
        elif source == Src.MAINTENANCE_FUND:
            basis = rng.choice(["decision", "emergency", "draft", "none"])
            if basis == "decision":
                extra = {"decision": f.decision}
            elif basis == "emergency":
                extra = {"emergency": f.emergencies[book.project.pk]}
            elif basis == "draft":
                extra = {"decision": f.draft}
            valid &= basis in ("decision", "emergency")
        actor = rng.choice([f.staff, f.staff, f.approvers[0], f.approvers[1], f.volunteer])
        predicted = DENIED if actor is f.volunteer else OK if valid else REFUSED

        def call() -> Any:
            return ledger.record_income(
                actor, book.project, source=source, amount=text, purpose="", now=self.now, **extra
            )

        def done(entry: LedgerEntry) -> None:
            assert value is not None
            book.append("income", value)

        return "income", predicted, call, done

    def submit(self, book: Book) -> tuple[str, str, Callable[[], Any], Callable[[Any], None]]:
        f, rng = self.fund, self.rng
        available = book.balance - book.committed
        text = self.money(1, int(available * 110) + 500)
        value = amount_of(text)
        actor = rng.choice([*f.submitters, f.volunteer]) if rng.random() < 0.97 else f.volunteer
        others = len(f.approvers) - (1 if actor in f.approvers else 0)
        if actor is f.volunteer:
            predicted = DENIED
        elif value is None or value > available or others < book.needed:
            predicted = REFUSED
        else:
            predicted = OK

        def call() -> Any:
            return ledger.submit_expense(
                actor,
                book.project,
                purpose="沥青和碎石",
                expense_type=rng.choice(Expense.Type.values),
                vendor="岱山县某建材商店",
                amount=text,
                now=self.now,
            )

        def done(expense: Expense) -> None:
            assert value is not None
            book.spends[expense.pk] = Spend(value, actor.pk)

        return "submit", predicted, call, done

    def decide(self, book: Book) -> tuple[str, str, Callable[[], Any], Callable[[Any], None]] | None:
        f, rng = self.fund, self.rng
        picked = self.pick_spend(book, E.SUBMITTED)
        if picked is None:
            return None
        pk, spend = picked
        actor = rng.choice(f.approvers) if rng.random() < 0.92 else rng.choice(f.outsiders)
        approve = rng.random() < 0.85
        note = "" if approve or rng.random() < 0.2 else "价格高于市场价"
        if actor not in f.approvers:
            predicted = DENIED
        elif (
            actor.pk == spend.submitter
            or spend.state != E.SUBMITTED
            or actor.pk in spend.said
            or (not approve and not note)
        ):
            predicted = REFUSED
        else:
            predicted = OK

        def call() -> Any:
            return ledger.decide_expense(
                actor, Expense.objects.get(pk=pk), approve=approve, note=note, now=self.now
            )

        def done(expense: Expense) -> None:
            spend.said.add(actor.pk)
            if not approve:
                spend.state = E.REJECTED
            else:
                spend.yes += 1
                if spend.yes >= book.needed:
                    spend.state = E.APPROVED

        return "decide", predicted, call, done

    def withdraw(self, book: Book) -> tuple[str, str, Callable[[], Any], Callable[[Any], None]] | None:
        picked = self.pick_spend(book, self.rng.choice([E.SUBMITTED, E.APPROVED]))
        if picked is None:
            return None
        pk, spend = picked
        predicted = OK if spend.state in Expense.OPEN else REFUSED

        def call() -> Any:
            return ledger.withdraw_expense(
                self.fund.staff, Expense.objects.get(pk=pk), reason="改用居民筹劳", now=self.now
            )

        def done(expense: Expense) -> None:
            spend.state = E.WITHDRAWN

        return "withdraw", predicted, call, done

    def pay(self, book: Book) -> tuple[str, str, Callable[[], Any], Callable[[Any], None]] | None:
        f = self.fund
        picked = self.pick_spend(book, E.APPROVED)
        if picked is None:
            return None
        pk, spend = picked
        actor = f.staff if self.rng.random() < 0.97 else f.volunteer
        if actor is f.volunteer:
            predicted = DENIED
        elif spend.state != E.APPROVED or book.balance < spend.amount:
            predicted = REFUSED
        else:
            predicted = OK

        def call() -> Any:
            return ledger.pay_expense(actor, Expense.objects.get(pk=pk), now=self.now)

        def done(entry: LedgerEntry) -> None:
            book.append("expense", spend.amount, expense=pk)
            spend.state = E.PAID

        return "pay", predicted, call, done

    def reverse(self, book: Book) -> tuple[str, str, Callable[[], Any], Callable[[Any], None]] | None:
        f = self.fund
        if not book.rows:
            return None
        row = self.rng.choice(book.rows)
        actor = f.staff if self.rng.random() < 0.95 else f.approvers[0]  # the branch only runs it
        if actor is not f.staff:
            predicted = DENIED
        elif row.reverses is not None or row.seq in book.reversed or book.balance - row.signed < 0:
            predicted = REFUSED
        else:
            predicted = OK

        def call() -> Any:
            entry = LedgerEntry.objects.get(project=book.project, seq=row.seq)
            return ledger.reverse_entry(actor, entry, reason="登记有误", now=self.now)

        def done(entry: LedgerEntry) -> None:
            book.append(row.direction, -row.amount, reverses=row.seq, expense=row.expense)
            book.reversed.add(row.seq)
            if row.expense is not None:
                book.spends[row.expense].state = E.REVERSED

        return "reverse", predicted, call, done

    OPERATIONS = (
        ("income", 28),
        ("submit", 22),
        ("decide", 26),
        ("withdraw", 3),
        ("pay", 13),
        ("reverse", 8),
    )

    def advance(self) -> None:
        self.step += 1
        book = self.rng.choice(self.fund.books)
        names, weights = zip(*self.OPERATIONS, strict=True)
        name = self.rng.choices(names, weights)[0]
        planned = getattr(self, name)(book)
        if planned is None:
            return
        op, predicted, call, done = planned
        outcome, result = run(call)
        assert outcome == predicted, (
            f"step {self.step}: {op} was {outcome}, the model says {predicted}: {result!r}"
        )
        self.tally[(op, outcome)] += 1
        if outcome == OK:
            done(result)
        # The model did not move for a refusal, and the database matched it after the last
        # step: equal now means the refusal changed nothing.
        assert observed(book) == expected(book), (
            f"step {self.step}: {outcome} {op} left the fund unlike the model"
        )


def observed(book: Book) -> tuple[Any, ...]:
    """What the database holds of one fund, in two queries: balance, number of entries, and
    each expense's state and number of approvals."""
    project = Project.objects.values_list("balance", "entries_count").get(pk=book.project.pk)
    expenses = (
        Expense.objects.filter(project=book.project)
        .annotate(said=Count("approvals"))
        .values_list("id", "state", "said")
    )
    return project, {pk: (state, said) for pk, state, said in expenses}


def expected(book: Book) -> tuple[Any, ...]:
    assert book.balance >= 0
    return (book.balance, len(book.rows)), {pk: (s.state, len(s.said)) for pk, s in book.spends.items()}


def check_ledger(book: Book) -> None:
    """Read one project's whole ledger back and check it from first principles."""
    project = Project.objects.get(pk=book.project.pk)
    entries = list(LedgerEntry.objects.filter(project=project).order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1)) and project.entries_count == len(
        entries
    )
    running, income, spent = Decimal("0.00"), Decimal("0.00"), Decimal("0.00")
    for entry in entries:
        if entry.direction == LedgerEntry.Direction.INCOME:
            income += entry.amount
            running += entry.amount
        else:
            spent += entry.amount
            running -= entry.amount
        assert entry.balance_after == running >= 0, entry
    assert project.balance == income - spent == running == (entries[-1].balance_after if entries else 0)
    assert ledger.totals(project)["balance"] == project.balance
    assert ledger.totals(project)["income"] == income and ledger.totals(project)["expenses"] == spent
    # Each reversal mirrors exactly one entry that is not itself a reversal.
    by_id = {e.pk: e for e in entries}
    mirrored = Counter(e.reverses_id for e in entries if e.reverses_id is not None)
    assert all(n == 1 for n in mirrored.values())
    for entry in entries:
        if entry.reverses_id is None:
            assert entry.amount > 0
            continue
        original = by_id[entry.reverses_id]
        assert original.reverses_id is None and original.seq < entry.seq
        assert entry.amount == -original.amount
        for name in (
            "direction",
            "source",
            "unit_id",
            "organisation_id",
            "decision_id",
            "emergency_id",
            "expense_id",
        ):
            assert getattr(entry, name) == getattr(original, name), (entry, name)
    # Each expense: its payment and approvals as its state says.
    reversed_ids = set(mirrored)
    for expense in Expense.objects.filter(project=project).prefetch_related("approvals"):
        payments = [e for e in entries if e.expense_id == expense.pk and e.reverses_id is None]
        undone = [e for e in payments if e.pk in reversed_ids]
        approvals = list(expense.approvals.all())
        yes = [a for a in approvals if a.approve]
        assert all(a.approver_id != expense.submitted_by_id for a in approvals)
        assert len({a.approver_id for a in approvals}) == len(approvals)
        if expense.state == E.PAID:
            assert len(payments) == 1 and not undone and payments[0].amount == expense.amount
        elif expense.state == E.REVERSED:
            assert len(payments) == 1 and len(undone) == 1
        else:
            assert not payments
        if expense.state in (E.APPROVED, E.PAID, E.REVERSED):
            assert len(yes) == len(approvals) == project.approvals_required
        if expense.state == E.REJECTED:
            assert [a.approve for a in approvals].count(False) == 1
    # And all of it as the model has it.
    assert [(e.seq, e.direction, e.amount, e.expense_id) for e in entries] == [
        (r.seq, r.direction, r.amount, r.expense) for r in book.rows
    ]
    seq_of = {e.pk: e.seq for e in entries}
    assert [seq_of.get(e.reverses_id) for e in entries] == [r.reverses for r in book.rows]


def test_thousands_of_random_operations_keep_the_fund_exact(fund: Fund) -> None:
    history = History(fund, random.Random(SEED))
    for step in range(1, STEPS + 1):
        history.advance()
        if step == STEPS // 2:
            # Half-way the work starts; money keeps moving while a project is under way.
            for book in fund.books:
                book.project = actions.move(fund.staff, book.project, Project.State.UNDERWAY, now=history.now)
        if step % FULL_CHECK == 0:
            for book in fund.books:
                check_ledger(book)
    for book in fund.books:
        check_ledger(book)

    ran = sum(history.tally.values())
    assert ran >= 3000, history.tally
    # Every kind of operation both went through and was refused along the way.
    for name, _weight in History.OPERATIONS:
        assert history.tally[(name, OK)] > 0, (name, history.tally)
        assert history.tally[(name, REFUSED)] + history.tally[(name, DENIED)] > 0, (name, history.tally)
    assert sum(len(book.reversed) for book in fund.books) > 20
    assert all(any(s.state == E.PAID for s in book.spends.values()) for book in fund.books)


# ---- the cost split by area ---------------------------------------------------------------------

AREAS = st.lists(
    st.integers(min_value=1, max_value=2_000_000).map(lambda hundredths: Decimal(hundredths) / 100),
    min_size=1,
    max_size=40,
)
TOTALS = st.integers(min_value=0, max_value=1_000_000_000).map(lambda fen: Decimal(fen) / 100)


def exact_share(total: Decimal, area: Decimal, whole: Decimal) -> Fraction:
    return Fraction(total) * Fraction(area) / Fraction(whole)


@hypothesis_settings(max_examples=400)
@given(total=TOTALS, areas=AREAS, order=st.randoms(use_true_random=False))
@example(total=Decimal("0.01"), areas=[Decimal("80.00"), Decimal("80.00")], order=random.Random(1))
@example(total=Decimal("100.00"), areas=[Decimal("1.00")] * 3, order=random.Random(2))
def test_shares_add_up_exactly_and_stay_within_a_fen(
    total: Decimal, areas: list[Decimal], order: Any
) -> None:
    pairs: list[tuple[Hashable, Decimal]] = [(f"unit-{i:03d}", area) for i, area in enumerate(areas)]
    shares = sharing.split_by_area(total, pairs)
    whole = sum(areas, Decimal("0"))
    assert set(shares) == {key for key, _ in pairs}
    assert sum(shares.values(), Decimal("0")) == total
    for key, area in pairs:
        share = shares[key]
        assert share >= 0 and share == share.quantize(Decimal("0.01"))
        assert abs(Fraction(share) - exact_share(total, area, whole)) < Fraction(1, 100)
    # Deterministic: the same split again, and whatever order the households come in.
    assert sharing.split_by_area(total, pairs) == shares
    shuffled = list(pairs)
    order.shuffle(shuffled)
    assert sharing.split_by_area(total, shuffled) == shares
    # Monotone: a larger flat never pays less; equal flats differ by a fen at most.
    ranked = sorted(pairs, key=lambda pair: pair[1])
    for (small_key, small), (large_key, large) in zip(ranked, ranked[1:], strict=False):
        if large > small:
            assert shares[large_key] >= shares[small_key]
    for key_a, area_a in pairs:
        for key_b, area_b in pairs:
            if area_a == area_b:
                assert abs(shares[key_a] - shares[key_b]) <= Decimal("0.01")


@pytest.mark.parametrize(
    ("total", "areas"),
    [
        (Decimal("-0.01"), [("a", Decimal("1"))]),
        (Decimal("1.001"), [("a", Decimal("1"))]),
        (Decimal("1.00"), [("a", Decimal("0"))]),
        (Decimal("1.00"), [("a", Decimal("-3"))]),
        (Decimal("1.00"), []),
        (Decimal("1.00"), [("a", Decimal("1")), ("a", Decimal("2"))]),
    ],
)
def test_an_impossible_split_is_refused(total: Decimal, areas: list[tuple[Hashable, Decimal]]) -> None:
    with pytest.raises(ValueError):
        sharing.split_by_area(total, areas)


def test_nothing_to_share_over_nobody() -> None:
    assert sharing.split_by_area(Decimal("0.00"), []) == {}
