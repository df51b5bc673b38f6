"""Who may see an image is written once, in jobs/models.py: one's own, or team-visible while
its owner is an active member. Every view, service, media URL and copy-as-reference path
asks `Image.objects.visible_to` (or, for a query over collection items or jobs, the same
rule's `seen_by`); one's own images, the ones a person may change, are `owned_by`.

The guard reads every module with `ast` and fails where code outside jobs/models.py
filters images by owner or by visibility itself."""

import ast
from pathlib import Path

import pytest

import flux2web
from flux2web.jobs.models import Image, seen_by
from tests.collections.factories import made

ROOT = Path(flux2web.__file__).parent
HOME = "jobs/models.py"
LOOKUPS = {"filter", "exclude", "get", "Q", "get_object_or_404", "get_or_create"}
# Where filtering by owner means "the owner's own", and a join is what keeps the query
# cheap: (module, lookup). Nothing here decides who may see an image.
ALLOWED = {
    # A link publishes only its owner's own images of a collection (the public page's query).
    ("links/services.py", "image__owner_id"),
    # The Sharing panel counts the teammates' images of one's collection: "not mine".
    ("links/views.py", "owner_id"),
    # One's own images in collections since closed to one, to take them back.
    ("collections/views.py", "image__owner"),
}


def _about_images(node) -> bool:
    """Whether a call's receiver is a query over images: Image.objects…, images…,
    shareable_images()…"""
    names = []
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        node = node.func if isinstance(node, ast.Call) else node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return any("image" in name.lower() for name in names)


def _lookups(call: ast.Call) -> list[str]:
    """The lookups a call names, `**{f"{prefix}owner": …}` included (as their source)."""
    found = []
    for keyword in call.keywords:
        if keyword.arg:
            found.append(keyword.arg)
        elif isinstance(keyword.value, ast.Dict):
            found += [ast.unparse(key) for key in keyword.value.keys if key is not None]
    return found


def _receiver(call: ast.Call):
    return call.func.value if isinstance(call.func, ast.Attribute) else None


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _wrong(lookup: str, on_images: bool) -> bool:
    if not lookup.isidentifier():  # built at run time: any part of the rule is too much
        return "team_visible" in lookup or "owner" in lookup
    parts = lookup.split("__")
    if "team_visible" in parts:
        return True  # the visibility flag is read by the rule alone
    for n, part in enumerate(parts):
        # `owner…` of an image: directly on an image query, or through image(s)__.
        through = n > 0 and parts[n - 1] in ("image", "images")
        if part in ("owner", "owner_id") and (through or (n == 0 and on_images)):
            return True
    return False


def filters_outside_the_rule() -> list[str]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        if "migrations" in path.parts or where == HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _name(node) in LOOKUPS:
                receiver = _receiver(node)
                on_images = receiver is not None and _about_images(receiver)
                for lookup in _lookups(node):
                    if _wrong(lookup, on_images) and (where, lookup) not in ALLOWED:
                        found.append(f"{where}:{node.lineno} {_name(node)}({lookup}=…)")
            # Checked in Python instead: image.team_visible, image.owner.is_active.
            if isinstance(node, ast.Attribute) and (
                node.attr == "team_visible"
                or (
                    node.attr == "is_active"
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "owner"
                )
            ):
                subject = ast.unparse(node.value).lower()
                if "image" in subject or "cover" in subject:
                    found.append(f"{where}:{node.lineno} {ast.unparse(node)}")
    return found


def test_nothing_outside_jobs_models_decides_who_sees_an_image():
    assert filters_outside_the_rule() == []


def test_the_guard_sees_each_way_of_writing_the_rule_again(tmp_path):
    """The guard itself: each of these would be the rule written again."""
    samples = {
        "Image.objects.filter(owner=user)": True,
        "Image.objects.shown().filter(Q(owner=user) | Q(team_visible=True))": True,
        "images.filter(owner_id=person)": True,
        "CollectionItem.objects.filter(image__owner=viewer)": True,
        "Job.objects.filter(images__team_visible=True)": True,
        "ok = image.team_visible and image.owner.is_active": True,
        'Q(**{f"{via}team_visible": True})': True,
        "links.shareable_images().exclude(owner_id=someone)": True,
        "Image.objects.visible_to(user).filter(pk=1)": False,
        "ShareLink.objects.filter(owner=user, owner__is_active=True)": False,
        "Collection.objects.filter(owner=user)": False,
    }
    for source, wrong in samples.items():
        tree = ast.parse(source)
        hits = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in LOOKUPS:
                receiver = _receiver(node)
                on_images = receiver is not None and _about_images(receiver)
                hits += [k for k in _lookups(node) if _wrong(k, on_images)]
            if isinstance(node, ast.Attribute) and node.attr in ("team_visible", "is_active"):
                hits.append(node.attr)
        assert bool(hits) == wrong, source


@pytest.mark.django_db
def test_the_rule_in_python_agrees_with_the_rule_in_sql(owner, teammate, outsider, providers):
    """A page that already holds the image asks `image.is_seen_by(user)`; it answers as
    the query does, for one's own, a teammate's shared and private image, and a departed
    member's."""
    images = [
        made(owner, "own, private"),
        made(owner, "own, shared", team=True),
        made(teammate, "theirs, shared", team=True),
        made(teammate, "theirs, private"),
    ]
    outsider.is_active = False
    outsider.save()
    images.append(made(outsider, "a departed member's, shared", team=True))
    for image in Image.objects.select_related("owner").filter(pk__in=[i.pk for i in images]):
        in_sql = Image.objects.filter(seen_by(owner), pk=image.pk).exists()
        assert image.is_seen_by(owner) == in_sql, image.job.prompt
    assert [i.job.prompt for i in Image.objects.visible_to(owner).order_by("pk")] == [
        "own, private",
        "own, shared",
        "theirs, shared",
    ]
