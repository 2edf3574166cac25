"""What the admin CLI prints: plain text for people, JSON (`--json`) for scripts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prelabel.domain.entities import Organization
from prelabel.domain.locations import DataLocation
from prelabel.ports.users import User
from prelabel.services.organizations import PeriodUsage


def grant_json(grant: DataLocation) -> dict[str, str]:
    return {"bucket": grant.bucket, "prefix": grant.prefix, "location": str(grant)}


def user_json(user: User) -> dict[str, Any]:
    return asdict(user)


def usage_json(usage: PeriodUsage) -> dict[str, Any]:
    live = usage.allowance
    return {
        "period": usage.period,
        "used": usage.used,
        "monthly_limit": live.monthly_limit if live else None,
        "remaining": live.remaining if live else None,
        "current": usage.current,
    }


def org_json(org: Organization, users: list[User] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "org_id": org.org_id,
        "name": org.name,
        "plan": org.plan.value,
        "period": org.period,
        "monthly_limit": org.monthly_limit,
        "remaining": org.remaining,
        "used": org.allowance.used,
        "grants": [grant_json(g) for g in org.grants],
        "usage": dict(org.usage),
    }
    if users is not None:
        body["users"] = [user_json(u) for u in users]
    return body


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def allowance_line(org: Organization) -> str:
    return (
        f"{org.period}: {_n(org.allowance.used)} used of {_n(org.monthly_limit)}, "
        f"{_n(org.remaining)} remaining"
    )


def user_line(user: User) -> str:
    name = f" ({user.name})" if user.name else ""
    enabled = "" if user.enabled else ", disabled"
    return f"{user.email}{name}: {user.status}{enabled}"


def org_text(org: Organization, users: list[User] | None, users_note: str = "") -> str:
    lines = [
        f"{org.org_id}  {org.name}",
        f"  plan        {org.plan.value}",
        f"  this month  {allowance_line(org)}",
        "  grants      " + (", ".join(str(g) for g in org.grants) or "none (own folder only)"),
    ]
    if users is None:
        if users_note:
            lines.append(f"  users       {users_note}")
    else:
        lines.append(f"  users       {len(users)}")
        lines += [f"    {user_line(u)}" for u in users]
    closed = ", ".join(f"{p} {_n(n)}" for p, n in sorted(org.usage.items(), reverse=True))
    lines.append(f"  past usage  {closed or 'none recorded yet'}")
    return "\n".join(lines)


def org_table(orgs: list[Organization]) -> str:
    header = ("ORG", "PLAN", "PERIOD", "USED", "LIMIT", "REMAINING", "GRANTS", "NAME")
    rows = [
        (
            o.org_id,
            o.plan.value,
            o.period,
            _n(o.allowance.used),
            _n(o.monthly_limit),
            _n(o.remaining),
            str(len(o.grants)),
            o.name,
        )
        for o in orgs
    ]
    if not rows:
        return "no organizations yet (prelabel-admin ... org create ORG --name NAME --plan PLAN)"
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    )


def usage_text(org_id: str, usage: list[PeriodUsage]) -> str:
    lines = [f"{org_id}: images pre-labeled per month (UTC)"]
    for u in usage:
        if u.allowance:
            lines.append(
                f"  {u.period}  {_n(u.used)} used of {_n(u.allowance.monthly_limit)}, "
                f"{_n(u.allowance.remaining)} remaining (this month, live)"
            )
        else:
            lines.append(f"  {u.period}  {_n(u.used)} used")
    return "\n".join(lines)
