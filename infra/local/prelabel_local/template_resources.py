"""Local resources made from template.yaml itself, so the local stack cannot drift from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

# Logical id of each table in template.yaml -> the Settings field (and so the environment
# variable, its alias) that names it.
TABLE_SETTING = {
    "OrganizationsTable": "organizations_table",
    "ProjectsTable": "projects_table",
    "DatasetsTable": "datasets_table",
    "TasksTable": "tasks_table",
    "RunsTable": "runs_table",
    "JobsTable": "jobs_table",
    "ModelsTable": "models_table",
}


def table_env_var(logical_id: str) -> str:
    from prelabel.settings import Settings

    field = Settings.model_fields[TABLE_SETTING[logical_id]]
    return str(field.alias)


TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


def table_definitions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> CreateTable arguments (without TableName) for every DynamoDB table."""
    tables: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource.get("Properties", {})
        tables[logical_id] = {k: _plain(props[k]) for k in TABLE_KEYS if k in props}
    return tables


def _plain(value: Any) -> Any:
    # cfn_yaml returns dict/list subclasses that carry line marks; boto3 wants plain ones.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def create_tables(client: Any, template: dict[str, Any], names: dict[str, str]) -> None:
    """Create each table named in `names` (logical id -> physical name) as the template says."""
    definitions = table_definitions(template)
    for logical_id, table_name in names.items():
        spec = dict(definitions[logical_id])
        spec.setdefault("BillingMode", "PAY_PER_REQUEST")
        client.create_table(TableName=table_name, **spec)
