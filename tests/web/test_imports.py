"""Console imports: household lists (and areas for admins) with the CLI's report: problems by
sheet, row and column, a dry run and its confirmation, "skip invalid rows", nothing
half-imported, and an assistant kept to their own communes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from messages.render import _
from storage.models import AuditEntry, Commune, Household
from tests.storage.sheets import AREAS, HEADER, household, write_sheet
from tests.web.conftest import Communes, csrf_of
from tests.web.seed_events import Store, in_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app_store(started: TestClient) -> Store:
    return in_app(started)


def count(app_store: Store, model: Any, *where: Any) -> int:
    async def work(session: Any) -> int:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query))

    found: int = app_store(work)
    return found


def upload(client: TestClient, path: str, file: Path, **data: str) -> Any:
    token = csrf_of(client.get("/imports").text)
    kind = XLSX if file.suffix == ".xlsx" else "text/csv"
    with file.open("rb") as handle:
        return client.post(
            path, data={"csrf": token, **data}, files={"file": (file.name, handle, kind)}
        )


def staged_token(html: str) -> str:
    return html.split('name="staged" value="')[1].split('"', 1)[0]


def new_households(commune: str, n: int, **fields: Any) -> list[list[Any]]:
    return [
        household(f"NEW-{commune}-{i}", **{"Mã xã": commune, **fields}) for i in range(1, n + 1)
    ]


def test_the_page_offers_households_to_composers_and_areas_to_admins(
    staff: Communes, signed_in: Callable[[str], TestClient]
) -> None:
    page = signed_in("assistant").get("/imports")
    assert page.status_code == 200
    assert 'action="/imports/households"' in page.text
    assert 'action="/imports/areas"' not in page.text
    assert 'name="dry_run"' in page.text
    assert 'name="skip_invalid"' in page.text
    assert 'action="/imports/areas"' in signed_in("admin").get("/imports").text
    assert signed_in("officer").get("/imports").status_code == 403


def test_a_file_with_errors_gets_the_report_by_sheet_row_and_column_and_imports_nothing(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store, tmp_path: Path
) -> None:
    rows = [
        ["DANH SÁCH HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2026"],
        [],
        HEADER,
        *new_households(staff.mine, 2),
        household("NEW-BAD", **{"Mã xã": staff.mine, "Phân loại": "Giàu"}),
    ]
    file = write_sheet(tmp_path / "ho-loi.xlsx", rows)
    before = count(app_store, Household)
    response = upload(signed_in("assistant"), "/imports/households", file, dry_run="1")
    assert response.status_code == 400
    text = response.text
    assert _("Import report") in text
    assert "Sheet" in text or _("Sheet") in text
    assert '<td class="num">6</td>' in text  # title rows counted as the spreadsheet shows
    assert "Phân loại" in text
    assert "Giàu" in text
    assert _("Rows rejected") in text
    assert 'name="staged"' not in text  # nothing to confirm: nothing would be imported
    assert count(app_store, Household) == before


def test_a_dry_run_is_confirmed_without_a_second_upload_and_audited(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store, tmp_path: Path
) -> None:
    file = write_sheet(tmp_path / "ho-moi.csv", [HEADER, *new_households(staff.mine, 3)])
    client = signed_in("assistant")
    before = count(app_store, Household)
    checked = upload(client, "/imports/households", file, dry_run="1")
    assert checked.status_code == 200
    assert _("Dry run: nothing was changed.") in checked.text
    assert count(app_store, Household) == before
    done = client.post(
        "/imports/households",
        data={"csrf": csrf_of(checked.text), "staged": staged_token(checked.text)},
    )
    assert done.status_code == 200
    assert _("The file is imported; the changes are saved.") in done.text
    assert count(app_store, Household) == before + 3
    audited = count(
        app_store,
        AuditEntry,
        AuditEntry.entity == "households",
        AuditEntry.actor == "assistant",
        AuditEntry.source == "console:import:ho-moi.csv",
    )
    assert audited == 3
    other = signed_in("admin")  # a token is its user's own
    stolen = other.post(
        "/imports/households",
        data={"csrf": csrf_of(other.get("/imports").text), "staged": staged_token(checked.text)},
    )
    assert stolen.status_code == 400


def test_without_a_dry_run_the_file_is_imported_at_once_and_skip_invalid_keeps_the_valid_rows(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store, tmp_path: Path
) -> None:
    rows = [HEADER, *new_households(staff.mine, 2), household("NEW-X", **{"Mã xã": ""})]
    file = write_sheet(tmp_path / "ho.csv", rows)
    client = signed_in("assistant")
    before = count(app_store, Household)
    refused = upload(client, "/imports/households", file)
    assert refused.status_code == 400
    assert count(app_store, Household) == before
    done = upload(client, "/imports/households", file, skip_invalid="1")
    assert done.status_code == 200
    assert _("The file is imported; the changes are saved.") in done.text
    assert count(app_store, Household) == before + 2


def test_an_assistant_cannot_import_another_communes_households(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store, tmp_path: Path
) -> None:
    async def foreign_code(session: Any) -> str:
        query = select(Household.code).where(Household.commune_code == staff.other).limit(1)
        return str(await session.scalar(query))

    moved = household(app_store(foreign_code), **{"Mã xã": staff.mine})  # would move it here
    rows = [HEADER, *new_households(staff.mine, 1), *new_households(staff.other, 1), moved]
    file = write_sheet(tmp_path / "ho-huyen.csv", rows)
    before = count(app_store, Household)
    response = upload(signed_in("assistant"), "/imports/households", file, skip_invalid="1")
    assert response.status_code == 400
    assert 'id="households-error"' in response.text
    refusal = _(
        "This file has households outside your communes (rows {rows}); nothing was imported."
    )
    assert refusal.format(rows="3, 4") in response.text
    assert count(app_store, Household) == before
    admin = upload(signed_in("admin"), "/imports/households", file, dry_run="1")
    assert admin.status_code == 200


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("ho.txt", b"Ma ho,Ho ten\n"),
        ("ho.xlsx", b"not a zip at all"),
        ("ho.csv", b""),
    ],
)
def test_an_upload_that_is_not_a_spreadsheet_is_refused_beside_the_field(
    staff: Communes,
    signed_in: Callable[[str], TestClient],
    tmp_path: Path,
    name: str,
    content: bytes,
) -> None:
    file = tmp_path / name
    file.write_bytes(content)
    response = upload(signed_in("assistant"), "/imports/households", file)
    assert response.status_code == 400
    assert 'id="households-error"' in response.text


def test_an_upload_over_20_mb_is_refused(
    staff: Communes, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    file = tmp_path / "ho-lon.csv"
    with file.open("wb") as handle:
        handle.write(",".join(HEADER).encode() + b"\n")
        handle.write(b"x" * (20 * 1024 * 1024 + 10))
    response = upload(signed_in("assistant"), "/imports/households", file)
    assert response.status_code == 400
    assert _("The file is larger than 20 MB.") in response.text


def test_areas_are_for_admins(
    staff: Communes, signed_in: Callable[[str], TestClient], app_store: Store, tmp_path: Path
) -> None:
    file = write_sheet(tmp_path / "dia-ban.xlsx", AREAS)
    before = count(app_store, Commune)
    assistant = signed_in("assistant")
    refused = upload(assistant, "/imports/areas", file)
    assert refused.status_code == 403
    admin = signed_in("admin")
    checked = upload(admin, "/imports/areas", file, dry_run="1")
    assert checked.status_code == 200
    assert _("Communes created") in checked.text
    assert count(app_store, Commune) == before
    done = admin.post(
        "/imports/areas",
        data={"csrf": csrf_of(checked.text), "staged": staged_token(checked.text)},
    )
    assert _("The file is imported; the changes are saved.") in done.text
    assert count(app_store, Commune) == before + 4
