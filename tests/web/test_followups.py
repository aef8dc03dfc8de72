"""The follow-up queue in the console: filters, order, scope, the forms, export and print."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.web.conftest import Communes, csrf_of
from tests.web.seed_followups import Seeded, seed


@pytest.fixture
def seeded(staff: Communes, settings_env: str) -> Seeded:
    return seed(settings_env, staff.mine, staff.other)


@pytest.fixture
def assistant(seeded: Seeded, signed_in: Callable[[str], TestClient]) -> TestClient:
    return signed_in("assistant")


def test_the_queue_shows_open_and_assigned_items_of_the_users_communes_in_order(
    seeded: Seeded, assistant: TestClient
) -> None:
    page = assistant.get("/followups")
    assert page.status_code == 200
    text = page.text
    assert f'href="/followups/{seeded.loan}"' in text
    assert f'href="/followups/{seeded.visit}"' in text
    assert f'href="/followups/{seeded.training}"' not in text  # done
    assert f'href="/followups/{seeded.foreign}"' not in text  # another commune
    assert text.index(f"/followups/{seeded.loan}") < text.index(f"/followups/{seeded.visit}")
    assert f'href="/households/{seeded.household}"' in text
    assert "Muốn vay vốn hộ nghèo." in text
    assert "01/12/2026" in text


def test_filters_narrow_the_queue(seeded: Seeded, assistant: TestClient) -> None:
    loans = assistant.get("/followups?kind=loan").text
    assert f"/followups/{seeded.loan}" in loans
    assert f"/followups/{seeded.visit}" not in loans
    mine = assistant.get("/followups?assignee=me").text
    assert f"/followups/{seeded.visit}" in mine
    assert f"/followups/{seeded.loan}" not in mine
    nobody = assistant.get("/followups?assignee=unassigned").text
    assert f"/followups/{seeded.loan}" in nobody
    assert f"/followups/{seeded.visit}" not in nobody
    done = assistant.get("/followups?status=done").text
    assert f"/followups/{seeded.training}" in done
    assert f"/followups/{seeded.loan}" not in done
    every = assistant.get("/followups?status=all").text
    assert all(f"/followups/{i}" in every for i in (seeded.loan, seeded.visit, seeded.training))


def test_another_communes_filter_or_item_is_not_found(
    seeded: Seeded, staff: Communes, assistant: TestClient
) -> None:
    assert assistant.get(f"/followups?commune={staff.other}").status_code == 404
    assert assistant.get(f"/followups/{seeded.foreign}").status_code == 404
    assert assistant.get("/followups/99999999999").status_code == 404
    assert assistant.get(f"/followups/{seeded.loan}").status_code == 200


def _post(client: TestClient, path: str, **data: str) -> object:
    page = client.get(path.rsplit("/", 1)[0])
    return client.post(path, data={**data, "csrf": csrf_of(page.text)}, follow_redirects=False)


def test_assign_status_due_date_and_note_are_saved_and_audited(
    seeded: Seeded, assistant: TestClient
) -> None:
    base = f"/followups/{seeded.loan}"
    for action, data in (
        ("assign", {"assignee": "me"}),
        ("due", {"due_on": "2026-12-15"}),
        ("note", {"note": "Đã gọi điện, hẹn thứ Hai."}),
    ):
        response = _post(assistant, f"{base}/{action}", **data)
        assert response.status_code == 303, (action, response.text)  # type: ignore[attr-defined]
    page = assistant.get(base).text
    assert "15/12/2026" in page
    assert "Muốn vay vốn hộ nghèo." in page  # the old note stays
    assert "[21/11/2026 assistant] Đã gọi điện, hẹn thứ Hai." in page
    queue = assistant.get("/followups?assignee=me").text
    assert f"/followups/{seeded.loan}" in queue
    response = _post(assistant, f"{base}/status", status="done")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert f'/followups/{seeded.loan}"' not in assistant.get("/followups").text
    history = assistant.get(base).text.split('class="history"', 1)[1]
    assert "Trạng thái: Đã giao → Đã xong" in history
    assert "Người phụ trách: – → assistant" in history
    assert "Hạn: – → 15/12/2026" in history
    assert "thêm ghi chú" in history


@pytest.mark.parametrize(
    ("due_on", "words"),
    [("2026-11-20", "ngày đã qua"), ("2026-02-30", "ngày có thật"), ("hôm qua", "ngày có thật")],
)
def test_a_due_date_in_the_past_or_not_a_date_is_refused_beside_the_field(
    seeded: Seeded, assistant: TestClient, due_on: str, words: str
) -> None:
    response = _post(assistant, f"/followups/{seeded.loan}/due", due_on=due_on)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert 'id="due_on-error"' in response.text  # type: ignore[attr-defined]
    assert words in response.text  # type: ignore[attr-defined]


def test_a_colleague_of_another_commune_cannot_be_assigned(
    seeded: Seeded, assistant: TestClient
) -> None:
    page = assistant.get(f"/followups/{seeded.loan}").text
    assert "outsider" not in page
    response = _post(assistant, f"/followups/{seeded.loan}/assign", assignee="999")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert 'id="assignee-error"' in response.text  # type: ignore[attr-defined]
    empty = _post(assistant, f"/followups/{seeded.loan}/note", note="   ")
    assert empty.status_code == 400  # type: ignore[attr-defined]


def test_an_officer_reads_but_cannot_work_and_outsiders_get_404(
    seeded: Seeded, signed_in: Callable[[str], TestClient]
) -> None:
    officer = signed_in("officer")
    page = officer.get(f"/followups/{seeded.loan}")
    assert page.status_code == 200
    assert f'action="/followups/{seeded.loan}/status"' not in page.text
    response = officer.post(
        f"/followups/{seeded.loan}/status",
        data={"status": "done", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 403
    outsider = signed_in("outsider")
    token = csrf_of(outsider.get("/followups").text)
    response = outsider.post(
        f"/followups/{seeded.loan}/status",
        data={"status": "done", "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == 404


def test_the_export_is_an_official_list_ready_to_print(
    seeded: Seeded, assistant: TestClient
) -> None:
    response = assistant.get("/followups/export.xlsx")
    assert response.status_code == 200
    assert "spreadsheetml" in response.headers["content-type"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    words = " ".join(cells)
    assert "DANH SÁCH HỘ CẦN THEO DÕI, HỖ TRỢ" in words
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in words
    assert "ngày 21 tháng 11 năm 2026" in words
    assert "Người lập biểu" in words
    assert "(Ký, ghi rõ họ tên)" in words
    assert "CHỦ TỊCH" in words
    header = [c.value for c in sheet[8]]
    assert header[:3] == ["STT", "Mã hộ", "Họ tên chủ hộ"]
    assert sheet.cell(row=9, column=1).value == 1
    assert sheet.cell(row=9, column=2).value == seeded.household
    assert sheet.print_title_rows == "$8:$8"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1


def test_the_print_view_has_a_table_per_village_with_signature_lines(
    seeded: Seeded, assistant: TestClient
) -> None:
    page = assistant.get("/followups/print")
    assert page.status_code == 200
    assert "DANH SÁCH HỘ CẦN THEO DÕI, HỖ TRỢ" in page.text
    assert page.text.count('class="sheet"') >= 1
    assert "Trưởng thôn" in page.text
    assert seeded.household in page.text
