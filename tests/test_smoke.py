from core import Store, default_schema


def test_default_schema_builds_a_store(tmp_path):
    store = Store.create(tmp_path / "a.db", default_schema(), prefix="AB")
    obj = store.put("counterparties", {"name": "Acme"})
    assert obj["fields"]["code"] == "AB-000001"
    assert store.head() > 0
