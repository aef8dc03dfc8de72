"""Console pages: the overview, per commune (or per village of one commune), last 30 days."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from messages.render import _
from storage.overview import CHANNELS, Overview, overview
from storage.scope import communes_in
from storage.vocab import followup_label
from web.console import charts
from web.console.auth import Reader, not_found
from web.console.templating import page
from web.deps import SessionDep
from web.recent import counted

router = APIRouter()

CHANNEL_LABELS = {"zalo": "Zalo", "telegram": "Telegram", "sms": "SMS"}  # names, not words


def _percent(value: float) -> str:
    return f"{round(value)}%"


def _charts(data: Overview, order: list[str], by_village: bool) -> dict[str, Markup]:
    """The pictures of the page, drawn from the figures already counted."""
    total = data.total
    firsts = [(CHANNEL_LABELS[name], total.first.get(name, 0)) for name in order]
    unreached = total.households - sum(n for _label, n in firsts)
    firsts.append((_("No channel: a village relay"), max(unreached, 0)))
    rates = [
        (u.name or _("No village"), (u.response_rate or 0) * 100) for u in data.units if u.asked
    ]
    return {
        "daily": charts.daily(
            data.days,
            [(_("Sent"), data.daily_sent), (_("Delivered"), data.daily_delivered)],
            title=_("Messages sent and delivered per day"),
        ),
        "reach": charts.shares(firsts, title=_("Households by the channel Loa writes on first")),
        "followups": charts.bars(
            [(followup_label(k), total.followups[k]) for k in data.kinds],
            title=_("Open follow-ups by kind"),
        ),
        "rates": charts.bars(
            rates,
            title=_("Survey response rate by village")
            if by_village
            else _("Survey response rate by commune"),
            scale=100,
            fmt=_percent,
        ),
    }


@router.get("/", response_class=HTMLResponse)
async def overview_page(
    request: Request,
    session: SessionDep,
    staff: Reader,
    commune: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Households, reach, messages, survey answers and open follow-ups of the user's areas."""
    choices = await communes_in(session, scope=staff.scope, by_code=True)
    codes = {code for code, _name in choices}
    if commune and (commune not in codes or not staff.scope.allows(commune)):
        raise not_found()
    chosen = commune or (choices[0][0] if len(choices) == 1 else None)
    settings = request.app.state.settings
    order = [n.strip() for n in settings.channel_order.split(",") if n.strip() in CHANNELS]
    now = request.app.state.clock.now()
    figures = await counted(
        request,
        ("overview", chosen, tuple(order)),
        lambda: overview(
            request.app.state.sessions, scope=staff.scope, now=now, commune=chosen, order=order
        ),
        scope=staff.scope,
        communes=1 if chosen else len(choices),
    )
    data = figures.value
    context = {
        "data": data,
        "counted_at": figures.at,
        "choices": choices,
        "chosen": chosen,
        "chosen_name": dict(choices).get(chosen or "", ""),
        "channels": [(name, CHANNEL_LABELS[name]) for name in CHANNELS],
        "kinds": [(k, followup_label(k)) for k in data.kinds],
        "charts": _charts(data, order, by_village=chosen is not None),
    }
    return page(request, "overview/index.html", staff, context)
