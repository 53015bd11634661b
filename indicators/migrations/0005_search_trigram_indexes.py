from collections.abc import Callable
from typing import Any

from django.db import migrations

# PostgreSQL only, as commitments' migration 0005 (which creates the pg_trgm extension): the site search looks for
# each word in indicators' names and descriptions with UPPER(column) LIKE UPPER('%word%'), which these indexes of
# the same expressions serve. ANALYZE gathers the expressions' statistics, which the planner needs to tell a word
# found in most indicators (read in order, a page at a time) from one found in few (read from these indexes).
TRIGRAM_INDEXES = [
    "CREATE INDEX indicator_name_trgm ON indicators_indicator USING gin (UPPER(name::text) gin_trgm_ops)",
    "CREATE INDEX indicator_description_trgm ON indicators_indicator USING gin (UPPER(description) gin_trgm_ops)",
    "ANALYZE indicators_indicator",
]
DROP_TRIGRAM_INDEXES = [
    "DROP INDEX IF EXISTS indicator_name_trgm",
    "DROP INDEX IF EXISTS indicator_description_trgm",
]


def on_postgresql(statements: list[str]) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0004_value_filter_indexes"),
        ("commitments", "0005_search_text"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(TRIGRAM_INDEXES), on_postgresql(DROP_TRIGRAM_INDEXES), elidable=False),
    ]
