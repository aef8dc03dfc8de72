"""Console pages: staff users (admins only): list, add, role and areas, password, deactivate,
unlock, a new API token. Every change is audited; a password or token never is."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from messages.render import _
from storage import staff as store
from storage.audit import Actor
from storage.models import ROLES
from storage.staff import MIN_PASSWORD, StaffError, StaffLine
from web.console.auth import Admin, PostingAdmin, Staff, not_found
from web.console.templating import page
from web.deps import SessionDep

router = APIRouter()
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
MAX_PASSWORD = 256
StaffId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form()]
DONE = {  # ?done= after a change: what the page says
    "created": "The staff user was added.",
    "updated": "The role and areas were saved.",
    "password": "The new password is set; the user was signed out everywhere.",
    "deactivated": "The user is deactivated and signed out everywhere.",
    "activated": "The user can sign in again.",
    "unlocked": "The lockout is lifted.",
    "unchanged": "Nothing changed.",
}


def _role_labels() -> dict[str, str]:
    return {"admin": _("Admin"), "officer": _("Officer"), "assistant": _("Assistant")}


def _actor(staff: Staff) -> Actor:
    return Actor(name=staff.username, source="console")


def _codes(text: str) -> list[str]:
    """Area codes typed with spaces, commas or semicolons between them."""
    return [code for code in re.split(r"[\s,;]+", text.strip()) if code]


def _check_areas(role: str, areas: str, errors: dict[str, str]) -> list[str]:
    codes = _codes(areas)
    if role not in ROLES:
        errors["role"] = _("Choose a role.")
    elif role != "admin" and not codes:
        errors["areas"] = _("Give at least one area code: a province or a commune.")
    too_long = [c for c in codes if len(c) > 10]
    if too_long:
        errors["areas"] = _("No province, district or commune has the code {code}.").format(
            code=too_long[0][:20]
        )
    return codes


def _check_password(password: str, again: str, errors: dict[str, str]) -> None:
    if len(password) < MIN_PASSWORD:
        errors["password"] = _("The password needs at least {n} characters.").format(n=MIN_PASSWORD)
    elif len(password) > MAX_PASSWORD:
        errors["password"] = _("The password can have at most {n} characters.").format(
            n=MAX_PASSWORD
        )
    elif password != again:
        errors["password2"] = _("The two passwords are not the same.")


async def _list_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    now = request.app.state.clock.now()
    context = {
        "lines": await store.list_staff(session, now=now),
        "roles": ROLES,
        "role_labels": _role_labels(),
        "choices": await store.area_choices(session),
        "values": values or {"role": "assistant"},
        "errors": errors or {},
        "min_password": MIN_PASSWORD,
    }
    return page(request, "staff/list.html", staff, context, status_code=status)


@router.get("/staff", response_class=HTMLResponse)
async def staff_list(request: Request, session: SessionDep, staff: Admin) -> HTMLResponse:
    """Every staff user, and the form to add one."""
    return await _list_page(request, session, staff)


@router.post("/staff", response_model=None)
async def staff_add(
    request: Request,
    session: SessionDep,
    staff: PostingAdmin,
    username: Text = "",
    role: Text = "",
    areas: Text = "",
    password: Text = "",
    password2: Text = "",
) -> Response:
    """Add a staff user; the form comes back with the errors beside the fields."""
    username = username.strip()
    values = {"username": username[:64], "role": role, "areas": areas[:500]}
    errors: dict[str, str] = {}
    if not USERNAME.fullmatch(username):
        errors["username"] = _(
            "Use 3 to 64 letters, digits, dots, dashes or underscores, without spaces."
        )
    codes = _check_areas(role, areas, errors)
    _check_password(password, password2, errors)
    if not errors:
        try:
            user = await store.add_staff(
                session,
                username=username,
                role=role,
                areas=codes,
                password=password,
                actor=_actor(staff),
                now=request.app.state.clock.now(),
            )
            await session.flush()
            staff_id = user.id
            await session.commit()
            return RedirectResponse(f"/staff/{staff_id}?done=created", status_code=303)
        except StaffError as error:
            await session.rollback()
            errors[error.field or "username"] = str(error)
    return await _list_page(request, session, staff, values=values, errors=errors, status=400)


async def _edit_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    staff_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    error: str | None = None,
    token: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    line = await _line(request, session, staff_id)
    done = request.query_params.get("done", "")
    context = {
        "line": line,
        "roles": ROLES,
        "role_labels": _role_labels(),
        "choices": await store.area_choices(session),
        "values": values or {"role": line.role, "areas": " ".join(line.areas)},
        "errors": errors or {},
        "message": message or (_(DONE[done]) if done in DONE and status == 200 else None),
        "error": error,
        "token": token,
        "is_me": line.id == staff.id,
        "min_password": MIN_PASSWORD,
    }
    response = page(request, "staff/edit.html", staff, context, status_code=status)
    if token:
        response.headers["Cache-Control"] = "no-store"  # shown once, kept nowhere
    return response


async def _line(request: Request, session: SessionDep, staff_id: int) -> StaffLine:
    now = request.app.state.clock.now()
    line = await store.get_staff(session, staff_id=staff_id, now=now)
    if line is None:
        raise not_found()
    return line


@router.get("/staff/{staff_id}", response_class=HTMLResponse)
async def staff_edit(
    request: Request, session: SessionDep, staff: Admin, staff_id: StaffId
) -> HTMLResponse:
    """One staff user: role and areas, password, activity, lockout, API token."""
    return await _edit_page(request, session, staff, staff_id)


def _done(staff_id: int, what: str) -> RedirectResponse:
    return RedirectResponse(f"/staff/{staff_id}?done={what}", status_code=303)


@router.post("/staff/{staff_id}", response_model=None)
async def staff_change(
    request: Request,
    session: SessionDep,
    staff: PostingAdmin,
    staff_id: StaffId,
    role: Text = "",
    areas: Text = "",
) -> Response:
    """Give a user another role and areas (the areas are replaced)."""
    line = await _line(request, session, staff_id)
    values = {"role": role, "areas": areas[:500]}
    errors: dict[str, str] = {}
    codes = _check_areas(role, areas, errors)
    if line.id == staff.id and role != line.role:
        errors["role"] = _("You cannot change your own role; ask another admin.")
    if not errors:
        try:
            changed = await store.change_staff(
                session,
                staff_id=staff_id,
                role=role,
                areas=codes,
                actor=_actor(staff),
                now=request.app.state.clock.now(),
            )
            await session.commit()
            return _done(staff_id, "updated" if changed else "unchanged")
        except StaffError as error:
            await session.rollback()
            errors[error.field or "areas"] = str(error)
    return await _edit_page(
        request, session, staff, staff_id, values=values, errors=errors, status=400
    )


@router.post("/staff/{staff_id}/password", response_model=None)
async def staff_password(
    request: Request,
    session: SessionDep,
    staff: PostingAdmin,
    staff_id: StaffId,
    password: Text = "",
    password2: Text = "",
) -> Response:
    """Set a new password; the user is signed out everywhere."""
    await _line(request, session, staff_id)
    errors: dict[str, str] = {}
    _check_password(password, password2, errors)
    if errors:
        return await _edit_page(request, session, staff, staff_id, errors=errors, status=400)
    now = request.app.state.clock.now()
    await store.set_password(
        session, staff_id=staff_id, password=password, actor=_actor(staff), now=now
    )
    await session.commit()
    if staff_id == staff.id:  # their own sessions ended too, this one among them
        return RedirectResponse("/login", status_code=303)
    return _done(staff_id, "password")


async def _activity(
    request: Request, session: SessionDep, staff: Staff, staff_id: int, *, active: bool
) -> Response:
    await _line(request, session, staff_id)
    if staff_id == staff.id and not active:
        error = _("You cannot deactivate your own account; ask another admin.")
        return await _edit_page(request, session, staff, staff_id, error=error, status=400)
    try:
        changed = await store.set_active(
            session,
            staff_id=staff_id,
            active=active,
            actor=_actor(staff),
            now=request.app.state.clock.now(),
        )
    except StaffError as refused:
        await session.rollback()
        return await _edit_page(request, session, staff, staff_id, error=str(refused), status=400)
    await session.commit()
    return _done(staff_id, ("activated" if active else "deactivated") if changed else "unchanged")


@router.post("/staff/{staff_id}/deactivate", response_model=None)
async def staff_deactivate(
    request: Request, session: SessionDep, staff: PostingAdmin, staff_id: StaffId
) -> Response:
    """The user can no longer sign in or use a token; their sessions end."""
    return await _activity(request, session, staff, staff_id, active=False)


@router.post("/staff/{staff_id}/activate", response_model=None)
async def staff_activate(
    request: Request, session: SessionDep, staff: PostingAdmin, staff_id: StaffId
) -> Response:
    """The user can sign in again."""
    return await _activity(request, session, staff, staff_id, active=True)


@router.post("/staff/{staff_id}/unlock", response_model=None)
async def staff_unlock(
    request: Request, session: SessionDep, staff: PostingAdmin, staff_id: StaffId
) -> Response:
    """Lift the lockout that wrong passwords set."""
    await _line(request, session, staff_id)
    now = request.app.state.clock.now()
    changed = await store.unlock(session, staff_id=staff_id, actor=_actor(staff), now=now)
    await session.commit()
    return _done(staff_id, "unlocked" if changed else "unchanged")


@router.post("/staff/{staff_id}/token", response_model=None)
async def staff_token(
    request: Request, session: SessionDep, staff: PostingAdmin, staff_id: StaffId
) -> Response:
    """A new API token, shown once on the page (the earlier one stops working)."""
    await _line(request, session, staff_id)
    now = request.app.state.clock.now()
    try:
        token = await store.issue_token(session, staff_id=staff_id, actor=_actor(staff), now=now)
    except StaffError as refused:
        await session.rollback()
        return await _edit_page(request, session, staff, staff_id, error=str(refused), status=400)
    await session.commit()
    return await _edit_page(request, session, staff, staff_id, token=token)
