"""The SQLite corpus (DESIGN.md section 1): schema, migrations and the queries others use."""
from core.store.database import Store, open_store
from core.store.schema import SCHEMA_VERSION

__all__ = ["Store", "open_store", "SCHEMA_VERSION"]
