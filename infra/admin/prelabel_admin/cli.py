"""prelabel-admin: organizations, plans and limits, data-location grants and users of a
Prelabel deployment, for operators.

    prelabel-admin --stack prelabel org create acme --name "Acme" --plan TEAM_PRO
    prelabel-admin --local org show demo-org --json

`--stack NAME` acts on a deployed CloudFormation stack (its outputs name the tables, the bucket
and the user pool; your AWS credentials and region are used); `--local` acts on the running
local stack (`python -m prelabel_local.stack`, found through `.local/stack.json`). Exit status:
0 done, 1 refused (the message names the field and the value), 2 bad usage or target.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from prelabel.domain.errors import DomainError, InvalidInput
from prelabel.domain.plans import Plan
from prelabel.ports.users import NewUser, User
from prelabel_admin import render
from prelabel_admin.targets import Target, TargetError, local_target, stack_target

if TYPE_CHECKING:  # built on first use: `--help` and a refused target import none of it
    from prelabel.container import Container
    from prelabel.services.locations import LocationService
    from prelabel.services.organizations import OrganizationAdmin
    from prelabel.services.users import UserAdmin

PLANS = [p.value for p in Plan]


@dataclass
class Output:
    data: Any
    text: str


class Admin:
    """The services of one target, built on first use."""

    def __init__(self, target: Target) -> None:
        self.target = target

    @cached_property
    def container(self) -> Container:
        from prelabel.container import Container

        return Container(self.target.settings)

    @cached_property
    def orgs(self) -> OrganizationAdmin:
        from prelabel.services.organizations import OrganizationAdmin

        c = self.container
        return OrganizationAdmin(c.orgs, c.settings.plan_limits)

    @cached_property
    def locations(self) -> LocationService:
        return self.container.locations

    @cached_property
    def users(self) -> UserAdmin:
        from prelabel.adapters.cognito_users import CognitoUserDirectory
        from prelabel.container import client_factory
        from prelabel.services.users import UserAdmin

        pool = self.user_pool()
        region = self.target.settings.region
        return UserAdmin(
            self.container.orgs, CognitoUserDirectory(client_factory("cognito-idp", region), pool)
        )

    def user_pool(self) -> str:
        if self.target.local_state is not None:
            raise TargetError(
                "the local stack has no user pool: a local user is a signed token, "
                "`prelabel-admin --local user token ORG --user NAME`"
            )
        if not self.target.user_pool_id:
            raise TargetError(f"{self.target.description} has no UserPoolId output")
        return self.target.user_pool_id

    def users_or_note(self, org_id: str) -> tuple[list[User] | None, str]:
        if self.target.local_state is not None:
            return None, "local stack: no user pool (tokens: user token ORG --user NAME)"
        if not self.target.user_pool_id:
            return None, "unknown (the stack has no UserPoolId output)"
        return self.users.list_users(org_id), ""


# ---------------------------------------------------------------- commands


def org_create(admin: Admin, a: argparse.Namespace) -> Output:
    org = admin.orgs.create(a.org, a.name, Plan(a.plan))
    return Output(render.org_json(org), f"created\n{render.org_text(org, None)}")


def org_list(admin: Admin, a: argparse.Namespace) -> Output:
    orgs = admin.orgs.list_all()
    return Output([render.org_json(o) for o in orgs], render.org_table(orgs))


def org_show(admin: Admin, a: argparse.Namespace) -> Output:
    org = admin.orgs.get(a.org)
    users, note = admin.users_or_note(a.org)
    return Output(render.org_json(org, users), render.org_text(org, users, note))


def org_set_plan(admin: Admin, a: argparse.Namespace) -> Output:
    org = admin.orgs.set_plan(a.org, Plan(a.plan), keep_limit=a.keep_limit)
    return Output(
        render.org_json(org),
        f"{org.org_id} is on {org.plan.value}; " + (render.allowance_line(org)),
    )


def org_usage(admin: Admin, a: argparse.Namespace) -> Output:
    usage = admin.orgs.usage(a.org)
    return Output([render.usage_json(u) for u in usage], render.usage_text(a.org, usage))


def _limit(change: Callable[[Admin, argparse.Namespace], Any]) -> Callable[..., Output]:
    def run(admin: Admin, a: argparse.Namespace) -> Output:
        org = change(admin, a)
        return Output(render.org_json(org), f"{org.org_id}: {render.allowance_line(org)}")

    return run


limit_set_remaining = _limit(lambda admin, a: admin.orgs.set_remaining(a.org, a.n))
limit_add = _limit(lambda admin, a: admin.orgs.add_remaining(a.org, a.n))
limit_set_monthly = _limit(lambda admin, a: admin.orgs.set_monthly_limit(a.org, a.n))


def grant_add(admin: Admin, a: argparse.Namespace) -> Output:
    grant = admin.locations.grant(a.org, a.bucket, a.prefix)
    return Output(render.grant_json(grant), f"{a.org} may read {grant}")


def grant_remove(admin: Admin, a: argparse.Namespace) -> Output:
    from prelabel.domain.locations import grant_root

    removed = admin.locations.revoke(a.org, a.bucket, a.prefix)
    where = grant_root(a.bucket, a.prefix)
    text = f"{a.org} no longer reads {where}" if removed else f"{a.org} held no grant {where}"
    return Output({"removed": removed, **render.grant_json(where)}, text)


def grant_list(admin: Admin, a: argparse.Namespace) -> Output:
    grants = admin.locations.list_grants(a.org)
    own = f"s3://{admin.target.settings.data_bucket}/{a.org}/ (its own folder, always)"
    lines = [own, *(str(g) for g in grants)]
    return Output([render.grant_json(g) for g in grants], "\n".join(lines))


def user_create(admin: Admin, a: argparse.Namespace) -> Output:
    admin.user_pool()  # a local target is refused before anything else
    new = NewUser(
        email=a.email,
        org_id=a.org,
        name=a.name,
        temporary_password=a.temporary_password,
        send_invitation=not a.no_email,
    )
    user = admin.users.create(new)
    how = "invitation emailed" if new.send_invitation else "no email sent"
    return Output(render.user_json(user), f"created {render.user_line(user)} ({how})")


def user_list(admin: Admin, a: argparse.Namespace) -> Output:
    admin.user_pool()
    users = admin.users.list_users(a.org)
    text = "\n".join(render.user_line(u) for u in users) or f"{a.org} has no users yet"
    return Output([render.user_json(u) for u in users], text)


def user_token(admin: Admin, a: argparse.Namespace) -> Output:
    state = admin.target.local_state
    if state is None:
        raise TargetError(
            "tokens of a deployed stack come from signing in to its user pool (Cognito); "
            "`user token` is for the local stack (--local)"
        )
    from prelabel_local.jwt_keys import issue_token, load_or_create_key

    admin.orgs.get(a.org)  # a token for an organization never set up could do nothing
    token = issue_token(load_or_create_key(state.parent), org_id=a.org, sub=a.user, ttl=a.ttl)
    return Output({"token": token, "org_id": a.org, "user": a.user, "ttl_s": a.ttl}, token)


# ---------------------------------------------------------------- parser


def _target_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """On the top parser and on every command, so they may come before or after it (a
    command's copies leave the top parser's values alone unless given)."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("target (one of --stack, --local)")
    group.add_argument("--stack", default=default(None), help="a deployed stack's name")
    group.add_argument(
        "--local",
        action="store_true",
        default=default(False),
        help="the running local stack (python -m prelabel_local.stack)",
    )
    group.add_argument("--region", default=default(None), help="the stack's AWS region")
    group.add_argument("--state", type=Path, default=default(None), help=argparse.SUPPRESS)
    group.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON for scripts"
    )


def _command(
    group: Any, name: str, run: Callable[[Admin, argparse.Namespace], Output], help_text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text, description=help_text)
    _target_options(parser, suppress=True)
    parser.set_defaults(run=run)
    return parser


def _whole_number(text: str) -> int:
    try:
        return int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prelabel-admin",
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Examples: docs/operations.md",
    )
    _target_options(parser, suppress=False)
    areas = parser.add_subparsers(dest="area", required=True, metavar="{org,limit,grant,user}")
    _org_commands(areas.add_parser("org", help="organizations"))
    _limit_commands(areas.add_parser("limit", help="this month's AI-assistance limit"))
    _grant_commands(areas.add_parser("grant", help="data-location grants"))
    _user_commands(areas.add_parser("user", help="users"))
    return parser


def _org_commands(area: argparse.ArgumentParser) -> None:
    org = area.add_subparsers(dest="cmd", required=True)
    p = _command(org, "create", org_create, "create an organization on a plan")
    p.add_argument("org", help="its id: letters, digits, . _ - (it names its data folder)")
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--plan", required=True, choices=PLANS)
    _command(org, "list", org_list, "every organization with this month's figures")
    p = _command(org, "show", org_show, "plan, this month's limit, grants, users, past usage")
    p.add_argument("org")
    p = _command(org, "set-plan", org_set_plan, "change the plan (and this month's limit)")
    p.add_argument("org")
    p.add_argument("plan", choices=PLANS)
    p.add_argument(
        "--keep-limit",
        action="store_true",
        help="keep this month's limit; the plan's amount applies from the next reset",
    )
    p = _command(org, "usage", org_usage, "images pre-labeled per month")
    p.add_argument("org")


def _limit_commands(area: argparse.ArgumentParser) -> None:
    limit = area.add_subparsers(dest="cmd", required=True)
    for name, run, help_text in (
        ("set-remaining", limit_set_remaining, "set what is left this month"),
        ("add", limit_add, "add to what is left this month (negative: take away)"),
        ("set-monthly", limit_set_monthly, "set this month's limit (what was used counts)"),
    ):
        p = _command(limit, name, run, help_text)
        p.add_argument("org")
        p.add_argument("n", type=_whole_number, help="images")


def _grant_commands(area: argparse.ArgumentParser) -> None:
    grant = area.add_subparsers(dest="cmd", required=True)
    for name, run, help_text in (
        ("add", grant_add, "let the organization read a bucket + prefix"),
        ("remove", grant_remove, "take a grant back"),
    ):
        p = _command(grant, name, run, help_text)
        p.add_argument("org")
        p.add_argument("--bucket", required=True, help="one of the stack's DatasetBuckets")
        p.add_argument("--prefix", default="", help="a folder in it ('' = the whole bucket)")
    p = _command(grant, "list", grant_list, "where the organization may read images")
    p.add_argument("org")


def _user_commands(area: argparse.ArgumentParser) -> None:
    user = area.add_subparsers(dest="cmd", required=True)
    p = _command(user, "create", user_create, "create a user in the user pool")
    p.add_argument("org")
    p.add_argument("email", help="the user signs in with it")
    p.add_argument("--name", default=None)
    p.add_argument(
        "--temporary-password",
        default=None,
        help="default: Cognito makes one; either way it is changed at first sign-in",
    )
    p.add_argument("--no-email", action="store_true", help="do not email the invitation")
    p = _command(user, "list", user_list, "the organization's users")
    p.add_argument("org")
    p = _command(user, "token", user_token, "local stack: print a token for a user")
    p.add_argument("org")
    p.add_argument("--user", default="demo-user", help="the token's subject")
    p.add_argument("--ttl", type=int, default=3600, help="seconds it is valid")


def resolve_target(a: argparse.Namespace) -> Target:
    if bool(a.stack) == bool(a.local):
        raise TargetError("name the target: --stack NAME (a deployment) or --local")
    if a.stack:
        return stack_target(a.stack, a.region)
    return local_target(a.state)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stdout, stderr = out or sys.stdout, sys.stderr
    a = build_parser().parse_args(argv)
    as_json = bool(a.json)

    def fail(code: str, message: str, field: str | None, status: int) -> int:
        if as_json:
            body = {"error": {"code": code, "message": message, "field": field}}
            print(json.dumps(body), file=stderr)
        else:
            print(f"prelabel-admin: {message}", file=stderr)
        return status

    try:
        result = a.run(Admin(resolve_target(a)), a)
    except TargetError as exc:
        return fail("TargetError", str(exc), None, 2)
    except DomainError as exc:
        field = exc.field if isinstance(exc, InvalidInput) else None
        return fail(type(exc).__name__, exc.message, field, 1)
    print(json.dumps(result.data, indent=2) if as_json else result.text, file=stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
