"""Console loans: instalments due soon and overdue in scope, and loan and repayment lists
uploaded with the CLI's report: checked first, then confirmed; another commune's rows refused."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.cli import common
from bot.clock import FixedClock
from messages.render import _
from storage.models import AuditEntry, Household, Instalment, Loan
from tests.conftest import NOW, loa
from tests.web.conftest import Communes, csrf_of
from tests.web.seed_events import Store, in_app

LOAN_HEADER = [
    "Mã hộ",
    "Chương trình",
    "Số tiền vay",
    "Ngày giải ngân",
    "Ngày đến hạn",
    "Số tiền gốc",
    "Số tiền lãi",
]
PAYMENT_HEADER = ["Mã hộ", "Chương trình", "Ngày đến hạn", "Ngày trả", "Số tiền"]


@pytest.fixture
def app_store(started: TestClient) -> Store:
    return in_app(started)


@dataclass(frozen=True)
class Codes:
    a: str  # households of the assistant's commune
    b: str
    c: str  # a household of the other commune


@pytest.fixture
def codes(staff: Communes, app_store: Store) -> Codes:
    async def work(session: Any) -> Codes:
        found = {}
        for commune in (staff.mine, staff.other):
            query = select(Household.code).where(Household.commune_code == commune)
            found[commune] = list(await session.scalars(query.order_by(Household.code).limit(2)))
        (a, b), c = found[staff.mine], found[staff.other][0]
        return Codes(a, b, c)

    found: Codes = app_store(work)
    return found


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def loan_rows(codes: Codes, *, other: bool) -> list[list[Any]]:
    rows = [
        LOAN_HEADER,
        [codes.a, "Hộ nghèo", "30.000.000", "01/06/2026", "10/11/2026", "1.000.000", "150.000"],
        [codes.a, "Hộ nghèo", "30.000.000", "01/06/2026", "01/12/2026", "1.000.000", "150.000"],
        [codes.a, "Hộ nghèo", "30.000.000", "01/06/2026", "01/03/2027", "1.000.000", "150.000"],
        [codes.b, "Hộ cận nghèo", "20.000.000", "15/05/2026", "15/12/2026", "2.000.000", "90.000"],
    ]
    if other:
        rows.append(
            [codes.c, "Hộ nghèo", "10.000.000", "05/05/2026", "05/12/2026", "500.000", "50.000"]
        )
    return rows


def _count(app_store: Store, model: Any) -> int:
    async def work(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)))

    found: int = app_store(work)
    return found


@pytest.fixture
def imported(codes: Codes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Codes:
    """The loans of both communes imported with `loa import loans` on the fixed clock."""
    monkeypatch.setattr(common, "clock", FixedClock(NOW))
    path = write_csv(tmp_path / "vay.csv", loan_rows(codes, other=True))
    code, output = loa("import", "loans", str(path))
    assert code == 0, output
    return codes


def test_upcoming_and_overdue_instalments_of_the_users_communes(
    imported: Codes, staff: Communes, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("assistant")
    page = client.get("/loans")
    assert page.status_code == 200
    text = page.text
    assert f'href="/households/{imported.a}"' in text
    assert f'href="/households/{imported.b}"' in text
    assert imported.c not in text  # the other commune's borrower
    assert "01/12/2026" in text
    assert "15/12/2026" in text
    assert "01/03/2027" not in text  # beyond the next 30 days
    assert "10/11/2026" not in text  # overdue: on the other list
    overdue = client.get("/loans?view=overdue").text
    assert "10/11/2026" in overdue
    assert "01/12/2026" not in overdue
    assert f"/households/{imported.a}" in overdue
    assert client.get(f"/loans?commune={staff.mine}").status_code == 200
    assert client.get(f"/loans?commune={staff.other}").status_code == 404
    admin = signed_in("admin").get("/loans").text
    assert imported.c in admin


def test_a_village_filter_narrows_the_list_and_another_communes_village_is_not_found(
    imported: Codes,
    staff: Communes,
    signed_in: Callable[[str], TestClient],
    app_store: Store,
) -> None:
    async def villages(session: Any) -> dict[str, int]:
        query = select(Household.code, Household.village_id).where(
            Household.code.in_([imported.a, imported.b, imported.c])
        )
        return dict((await session.execute(query)).all())

    found = app_store(villages)
    client = signed_in("assistant")
    page = client.get(f"/loans?village={found[imported.a]}").text
    assert f"/households/{imported.a}" in page
    if found[imported.b] != found[imported.a]:
        assert f"/households/{imported.b}" not in page
    assert client.get(f"/loans?village={found[imported.c]}").status_code == 404


def _upload(client: TestClient, path: str, file: Path, **data: str) -> Any:
    token = csrf_of(client.get("/loans/import").text)
    with file.open("rb") as handle:
        return client.post(
            path, data={"csrf": token, **data}, files={"file": (file.name, handle, "text/csv")}
        )


def test_a_loan_list_is_checked_then_confirmed_and_audited(
    codes: Codes,
    signed_in: Callable[[str], TestClient],
    app_store: Store,
    tmp_path: Path,
) -> None:
    client = signed_in("assistant")
    file = write_csv(tmp_path / "vay-xa.csv", loan_rows(codes, other=False))
    report = _upload(client, "/loans/import", file)
    assert report.status_code == 200, report.text
    assert _("Dry run: nothing was changed.") in report.text
    assert _("Loans created") in report.text
    assert _count(app_store, Loan) == 0
    token = csrf_of(report.text)
    staged = report.text.split('name="staged" value="')[1].split('"')[0]
    done = client.post("/loans/import", data={"csrf": token, "staged": staged})
    assert done.status_code == 200
    assert _("The file is imported; the changes are saved.") in done.text
    assert (_count(app_store, Loan), _count(app_store, Instalment)) == (2, 4)

    async def audits(session: Any) -> list[tuple[str, str]]:
        rows = await session.execute(
            select(AuditEntry.actor, AuditEntry.source).where(AuditEntry.entity == "loans")
        )
        return [tuple(r) for r in rows.all()]

    assert set(app_store(audits)) == {("assistant", "console:import:vay-xa.csv")}
    again = client.post("/loans/import", data={"csrf": token, "staged": staged})
    assert again.status_code == 400  # a checked file is imported once
    assert _("The checked file is no longer kept; upload it again.") in again.text


def test_a_file_with_another_communes_households_is_refused_with_its_rows(
    codes: Codes,
    signed_in: Callable[[str], TestClient],
    app_store: Store,
    tmp_path: Path,
) -> None:
    file = write_csv(tmp_path / "vay-huyen.csv", loan_rows(codes, other=True))
    response = _upload(signed_in("assistant"), "/loans/import", file)
    assert response.status_code == 400
    assert 'id="loans-error"' in response.text
    refusal = _(
        "This file has households outside your communes (rows {rows}); nothing was imported."
    )
    assert refusal.format(rows="6") in response.text
    assert _count(app_store, Loan) == 0
    admin = _upload(signed_in("admin"), "/loans/import", file)
    assert admin.status_code == 200
    assert _count(app_store, Loan) == 0  # checked only


def test_rejected_rows_block_the_import_unless_skipped(
    codes: Codes,
    signed_in: Callable[[str], TestClient],
    app_store: Store,
    tmp_path: Path,
) -> None:
    rows = loan_rows(codes, other=False)
    rows[2][4] = "31/02/2026"  # no such day
    file = write_csv(tmp_path / "vay-loi.csv", rows)
    client = signed_in("assistant")
    report = _upload(client, "/loans/import", file)
    assert report.status_code == 400
    assert 'name="staged"' not in report.text
    assert "31/02/2026" in report.text
    assert "Ngày đến hạn" in report.text
    assert '<td class="num">3</td>' in report.text  # the row as the spreadsheet numbers it
    skipped = _upload(client, "/loans/import", file, skip_invalid="1")
    assert skipped.status_code == 200
    staged = skipped.text.split('name="staged" value="')[1].split('"')[0]
    done = client.post("/loans/import", data={"csrf": csrf_of(skipped.text), "staged": staged})
    assert _("The file is imported; the changes are saved.") in done.text
    assert _count(app_store, Instalment) == 3


def test_repayments_mark_instalments_paid(
    imported: Codes,
    signed_in: Callable[[str], TestClient],
    app_store: Store,
    tmp_path: Path,
) -> None:
    file = write_csv(
        tmp_path / "tra.csv",
        [PAYMENT_HEADER, [imported.a, "Hộ nghèo", "10/11/2026", "20/11/2026", "1.150.000"]],
    )
    client = signed_in("assistant")
    report = _upload(client, "/loans/repayments", file)
    assert report.status_code == 200
    assert _("Instalments marked paid") in report.text
    staged = report.text.split('name="staged" value="')[1].split('"')[0]
    client.post("/loans/repayments", data={"csrf": csrf_of(report.text), "staged": staged})

    async def paid(session: Any) -> int:
        query = select(func.count()).where(Instalment.paid_on.is_not(None))
        return int(await session.scalar(query))

    assert app_store(paid) == 1
    assert "10/11/2026" not in client.get("/loans?view=overdue").text


def test_uploads_that_are_not_spreadsheets_are_refused_beside_the_field(
    staff: Communes, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    client = signed_in("assistant")
    text = tmp_path / "vay.txt"
    text.write_text("không phải bảng tính", encoding="utf-8")
    response = _upload(client, "/loans/import", text)
    assert response.status_code == 400
    assert 'id="loans-error"' in response.text
    assert signed_in("officer").get("/loans/import").status_code == 403
