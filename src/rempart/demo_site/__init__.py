"""A made-up photography forum, an image host and a mirror, served on loopback, plus a
Telegram channel export: the world Rempart's crawler, scan pipeline, tests and demo run on.

Everything is generated from a seed (neutral pictures from rempart.samples, invented
handles and hobby talk); some pictures are the demo victim's, and their copies (exact and
altered) sit at documented places. docs/demo-site.md describes the URLs and the HTML.

    with DemoSite(seed=1, images=50).serve() as site:
        site.forum_url, site.imagehost_url, site.mirror_url
        site.victim_images(), site.expected_sightings()
"""

from rempart.demo_site.content import ALTERATIONS, EMBEDS, EXACT
from rempart.demo_site.site import DemoSite, ServedSite, Sighting, serve_until_interrupted
from rempart.demo_site.telegram_export import write_telegram_export
from rempart.demo_site.web import SiteUrls

__all__ = [
    "ALTERATIONS",
    "EMBEDS",
    "EXACT",
    "DemoSite",
    "ServedSite",
    "Sighting",
    "SiteUrls",
    "serve_until_interrupted",
    "write_telegram_export",
]
