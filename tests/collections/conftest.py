"""The collections' fixtures (tests/collections/fixtures.py)."""

from tests.collections.fixtures import (  # noqa: F401 - fixtures, found by name
    _providers,
    as_outsider,
    as_owner,
    as_teammate,
    collection,
    images,
)
