"""Organizations and the AI-assistance ledger on DynamoDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from prelabel.adapters.dynamodb.errors import condition_failed, storage_errors
from prelabel.adapters.dynamodb.models import DataGrantAttr, OrganizationModel
from prelabel.domain.entities import Organization
from prelabel.domain.errors import Conflict, InvalidInput, NotFound
from prelabel.domain.locations import DataLocation
from prelabel.domain.plans import Plan
from prelabel.ports.organizations import Ledger, OrganizationRepository

# Optimistic writes of the grant list: a concurrent change makes the next try re-read it.
GRANT_WRITE_TRIES = 20


def _grants(item: OrganizationModel) -> tuple[DataLocation, ...]:
    return tuple(DataLocation(g.bucket, g.prefix) for g in item.data_grants or [])


def _to_domain(item: OrganizationModel) -> Organization:
    return Organization(
        org_id=item.org_id,
        name=item.name,
        plan=Plan(item.plan),
        monthly_limit=int(item.monthly_limit),
        remaining=int(item.remaining),
        period=item.period,
        grants=_grants(item),
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
        )
        try:
            with storage_errors("create organization"):
                item.save(condition=OrganizationModel.org_id.does_not_exist())
        except PutError as exc:
            raise Conflict(f"organization {org.org_id!r} exists") from exc

    def get(self, org_id: str) -> Organization:
        try:
            with storage_errors("read organization"):
                return _to_domain(OrganizationModel.get(org_id, consistent_read=True))
        except DoesNotExist as exc:
            raise NotFound(f"organization {org_id!r} not found") from exc

    def iter_all(self) -> Iterator[Organization]:
        with storage_errors("list organizations"):
            for item in OrganizationModel.scan():
                yield _to_domain(item)

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

    def reset(self, org_id: str, period: str, amount: int) -> bool:
        try:
            with storage_errors("reset limit"):
                OrganizationModel(org_id).update(
                    actions=[
                        OrganizationModel.remaining.set(amount),
                        OrganizationModel.monthly_limit.set(amount),
                        OrganizationModel.period.set(period),
                    ],
                    condition=OrganizationModel.org_id.exists()
                    & (OrganizationModel.period < period),
                )
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True
