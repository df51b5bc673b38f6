"""One image tile of the justified grids, Mine and Team alike: the same markup, so the same
CSS shows every image at its real shape in both."""

from html import escape

from flux2web.collections.templatetags.sharing_tags import ratio_of


def image_tile(
    row: dict, *, media: str, caption: str, lightbox: str, pick: bool = False, extra: str = ""
) -> str:
    """Built as a string: a template over 48 tiles cost more than the rest of the page
    together (bench/pages.py). `row` holds pk, original, thumbnail, width, height and
    job__prompt; `caption`, `lightbox` (the link's data- attributes) and `extra` (what
    follows the caption) are already escaped. Texts from the database go through escape();
    ids and sizes are integers."""
    width, height = int(row["width"] or 1), int(row["height"] or 1)
    full, thumb = media + escape(row["original"]), media + escape(row["thumbnail"])
    prompt = row["job__prompt"]
    pk = int(row["pk"])
    checkbox = (
        f'<input type="checkbox" class="pick" form="bulk" name="image" value="{pk}" id="pick-{pk}">'
        f'<label for="pick-{pk}" class="pick-label"><span class="visually-hidden">Select image '
        f"{pk}</span></label>"
        if pick
        else ""
    )
    return (
        f'<figure class="jitem tile {ratio_of(width, height)}" data-image-id="{pk}">{checkbox}'
        f'<a href="{full}" data-lightbox data-full="{full}" data-image="{pk}"{lightbox}>'
        f'<img src="{thumb}" srcset="{thumb} {min(width, 512)}w, {full} {width}w"'
        ' sizes="(max-width: 420px) 50vw, (max-width: 760px) 33vw, 25vw"'
        f' alt="{escape(prompt[:100])}" width="{width}" height="{height}"'
        ' loading="lazy" decoding="async"></a>'
        f"<figcaption>{caption}</figcaption>{extra}</figure>"
    )
