"""The collections' fixtures (tests/collections/fixtures.py): reviews are of collections'
images. Browser tests of review live in tests/e2e/ (its conftest starts Chromium)."""

from tests.collections.fixtures import (  # noqa: F401 - fixtures, found by name
    _providers,
    as_outsider,
    as_owner,
    as_teammate,
    collection,
    images,
)
