from tests.storage.fixtures import store, store_url  # noqa: F401  (pytest finds fixtures by name)
