"""Organizations and the AI-assistance ledger on DynamoDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from prelabel.adapters.dynamodb.errors import condition_failed, read_item, save_new, storage_errors
from prelabel.adapters.dynamodb.models import DataGrantAttr, OrganizationModel
from prelabel.domain.entities import Organization
from prelabel.domain.errors import Conflict, InvalidInput, NotFound, StorageError
from prelabel.domain.limits import Allowance
from prelabel.domain.locations import DataLocation
from prelabel.domain.plans import Plan
from prelabel.ports.organizations import Ledger, OrganizationRepository

# Optimistic writes of the grant list: a concurrent change makes the next try re-read it.
GRANT_WRITE_TRIES = 20


def _grants(item: OrganizationModel) -> tuple[DataLocation, ...]:
    return tuple(DataLocation(g.bucket, g.prefix) for g in item.data_grants or [])


def _usage(item: OrganizationModel) -> dict[str, int]:
    recorded = item.usage.as_dict() if item.usage is not None else {}
    # A period whose remaining was raised above its limit by hand records a negative difference.
    return {str(period): max(0, int(used)) for period, used in sorted(recorded.items())}


def _to_domain(item: OrganizationModel) -> Organization:
    return Organization(
        org_id=item.org_id,
        name=item.name,
        plan=Plan(item.plan),
        monthly_limit=int(item.monthly_limit),
        remaining=int(item.remaining),
        period=item.period,
        grants=_grants(item),
        usage=_usage(item),
    )


def _no_usage_map(exc: UpdateError) -> bool:
    # An organization stored before usage was recorded has no map to set a period in.
    return exc.cause_response_code == "ValidationException" and "document path" in str(
        exc.cause_response_message
    )


class DynamoOrganizationRepository(OrganizationRepository):
    def create(self, org: Organization) -> None:
        item = OrganizationModel(
            org.org_id,
            name=org.name,
            plan=org.plan.value,
            monthly_limit=org.monthly_limit,
            remaining=org.remaining,
            period=org.period,
            usage=dict(org.usage),
        )
        exists = f"organization {org.org_id!r} exists"
        save_new(item, OrganizationModel.org_id, "create organization", exists)

    def get(self, org_id: str) -> Organization:
        missing = f"organization {org_id!r} not found"
        return _to_domain(
            read_item(OrganizationModel, org_id, what="read organization", missing=missing)
        )

    def iter_all(self) -> Iterator[Organization]:
        with storage_errors("list organizations"):
            for item in OrganizationModel.scan():
                yield _to_domain(item)

    def change_terms(self, current: Organization, plan: Plan, allowance: Allowance) -> bool:
        m = OrganizationModel
        unchanged = (
            m.org_id.exists()
            & (m.plan == current.plan.value)
            & (m.period == current.period)
            & (m.monthly_limit == current.monthly_limit)
            & (m.remaining == current.remaining)
        )
        try:
            with storage_errors("change plan or limit"):
                m(current.org_id).update(
                    actions=[
                        m.plan.set(plan.value),
                        m.monthly_limit.set(allowance.monthly_limit),
                        m.remaining.set(allowance.remaining),
                    ],
                    condition=unchanged,
                )
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def add_allowance(self, org_id: str, units: int, *, limit_was: int | None = None) -> bool:
        m = OrganizationModel
        condition = m.org_id.exists() & (m.remaining >= -units)
        if limit_was is not None:
            condition &= m.monthly_limit == limit_was
        try:
            with storage_errors("add to the limit"):
                m(org_id).update(
                    actions=[m.remaining.add(units), m.monthly_limit.add(units)],
                    condition=condition,
                )
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def add_grant(self, org_id: str, grant: DataLocation) -> bool:
        return self._change_grants(
            org_id, lambda old: None if grant in old else (*old, grant), "add data grant"
        )

    def remove_grant(self, org_id: str, grant: DataLocation) -> bool:
        return self._change_grants(
            org_id,
            lambda old: tuple(g for g in old if g != grant) if grant in old else None,
            "remove data grant",
        )

    def _change_grants(
        self,
        org_id: str,
        change: Callable[[tuple[DataLocation, ...]], tuple[DataLocation, ...] | None],
        what: str,
    ) -> bool:
        """Read the list, write the changed list on condition that it is still what was read."""
        for _ in range(GRANT_WRITE_TRIES):
            try:
                with storage_errors(what):
                    item = OrganizationModel.get(
                        org_id, consistent_read=True, attributes_to_get=["org_id", "data_grants"]
                    )
            except DoesNotExist as exc:
                raise NotFound(f"organization {org_id!r} not found") from exc
            new = change(_grants(item))
            if new is None:
                return False
            grants = OrganizationModel.data_grants
            unchanged = grants == item.data_grants if item.data_grants else grants.does_not_exist()
            action = (
                grants.set([DataGrantAttr(bucket=g.bucket, prefix=g.prefix) for g in new])
                if new
                else grants.remove()
            )
            try:
                with storage_errors(what):
                    OrganizationModel(org_id).update(
                        actions=[action], condition=OrganizationModel.org_id.exists() & unchanged
                    )
                return True
            except UpdateError as exc:
                if not condition_failed(exc):
                    raise
        raise Conflict(f"the data grants of {org_id!r} kept changing; try again")


class DynamoLedger(Ledger):
    """`remaining` sits on the organization item, so one transaction can charge and label."""

    def remaining(self, org_id: str) -> int:
        try:
            with storage_errors("read remaining limit"):
                item = OrganizationModel.get(
                    org_id, consistent_read=True, attributes_to_get=["remaining"]
                )
        except DoesNotExist as exc:
            raise NotFound(f"organization {org_id!r} not found") from exc
        return int(item.remaining)

    def charge(self, org_id: str, units: int) -> int:
        if units < 0:
            raise InvalidInput(f"units: {units} is negative", field="units")
        want = units
        while want > 0:
            try:
                with storage_errors("charge limit"):
                    OrganizationModel(org_id).update(
                        actions=[OrganizationModel.remaining.add(-want)],
                        condition=OrganizationModel.remaining >= want,
                    )
                return want
            except UpdateError as exc:
                if not condition_failed(exc):
                    raise
            # Someone else charged first: take what is left now, if anything.
            want = min(want, self.remaining(org_id))
        return 0

    def reset(self, org_id: str, closing: str, period: str, amount: int) -> bool:
        if not closing < period:
            return False
        m = OrganizationModel
        actions = [
            m.remaining.set(amount),
            m.monthly_limit.set(amount),
            m.period.set(period),
            # Computed by DynamoDB from the item as it is at this write, so a charge that lands
            # between the scan and this update is counted in the period it was made in.
            m.usage[closing].set(m.monthly_limit - m.remaining),
        ]
        condition = m.org_id.exists() & (m.period == closing)
        try:
            return self._update_unless_changed(org_id, actions, condition)
        except UpdateError as exc:
            if not _no_usage_map(exc):
                raise StorageError(f"reset limit failed: {exc.cause_response_code}") from exc
        self._add_usage_map(org_id)
        try:
            return self._update_unless_changed(org_id, actions, condition)
        except UpdateError as exc:
            raise StorageError(f"reset limit failed: {exc.cause_response_code}") from exc

    @staticmethod
    def _update_unless_changed(org_id: str, actions: list[Any], condition: Any) -> bool:
        """False when `condition` failed; any other failure raises the UpdateError."""
        try:
            OrganizationModel(org_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    @staticmethod
    def _add_usage_map(org_id: str) -> None:
        m = OrganizationModel
        try:
            with storage_errors("add usage map"):
                m(org_id).update(
                    actions=[m.usage.set({})],
                    condition=m.org_id.exists() & m.usage.does_not_exist(),
                )
        except UpdateError as exc:
            if not condition_failed(exc):  # someone else added it: as good
                raise
