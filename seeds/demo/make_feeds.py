"""Build the bundled demo feeds from seed-article.txt and a few short demo stories.

    python seeds/demo/make_feeds.py      # rewrites seeds/demo/feeds/*.xml

The seed article (The Moscow Times, citing Bloomberg, September 2020) goes in as it was captured:
its photo caption with the credit, its "Related article" line and its bare links included, so the
demo exercises the cleaning. A second feed carries a syndicated copy of it with another headline,
which must join the same story cluster and not alert again. The other stories are invented filler
about fictional places, written for this demo.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

HERE = Path(__file__).parent
SEED_TITLE = "Putin to Back Belarus ‘Succession’ but Not Street Protests, Bloomberg Says"
SEED_URL = "https://www.themoscowtimes.com/2020/09/13/putin-to-back-belarus-succession-but-not-street-protests-bloomberg-a71426?utm_source=rss&utm_medium=feed"


def paragraphs_html(text: str) -> str:
    return "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def rss(title: str, link: str, items: list[dict], lang: str = "en") -> str:
    body = "".join(
        f"""
    <item>
      <title>{escape(i["title"])}</title>
      <link>{escape(i["link"])}</link>
      <guid isPermaLink="false">{escape(i["guid"])}</guid>
      <pubDate>{i["date"]}</pubDate>
      <description>{escape(i["summary"])}</description>
      <content:encoded><![CDATA[{i["html"]}]]></content:encoded>
    </item>"""
        for i in items
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>{escape(title)}</title>
    <link>{escape(link)}</link>
    <description>{escape(title)} (newswatch demo feed)</description>
    <language>{lang}</language>{body}
  </channel>
</rss>
"""


def atom(title: str, items: list[dict]) -> str:
    entries = "".join(
        f"""
  <entry>
    <title>{escape(i["title"])}</title>
    <link href="{escape(i["link"])}"/>
    <id>{escape(i["guid"])}</id>
    <updated>{i["date"]}</updated>
    <summary>{escape(i["summary"])}</summary>
    <content type="html">{escape(i["html"])}</content>
  </entry>"""
        for i in items
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{escape(title)}</title>
  <id>urn:newswatch:demo:{escape(title)}</id>
  <updated>2020-09-14T08:00:00Z</updated>{entries}
</feed>
"""


def story(title: str, link: str, guid: str, date: str, text: str) -> dict:
    return {"title": title, "link": link, "guid": guid, "date": date, "summary": text.split("\n\n")[0], "html": paragraphs_html(text)}


FILLER = [
    story(
        "Riverton council approves new cycle lanes after long debate",
        "https://demo.newswatch.invalid/local/riverton-cycle-lanes",
        "demo-local-1",
        "Sun, 13 Sep 2020 09:30:00 +0000",
        "The Riverton city council voted 7 to 2 on Saturday to build twelve kilometres of protected cycle lanes.\n\n"
        "Supporters said the lanes would make the school run safer; shop owners on Mill Street worried about parking.\n\n"
        "Construction is due to start in the spring and will be paid for from the transport budget.",
    ),
    story(
        "Harbour Bank reports higher quarterly profit as lending grows",
        "https://demo.newswatch.invalid/business/harbour-bank-profit",
        "demo-biz-1",
        "Sun, 13 Sep 2020 11:00:00 +0000",
        "Harbour Bank said its quarterly profit rose 8 percent as mortgage lending grew and deposits held steady.\n\n"
        "Investors welcomed the results, and the bank's shares gained 3 percent in early trading.\n\n"
        "The bank expects interest rates to stay low, which could squeeze its margins next year.",
    ),
]

SYNDICATED_INTRO = "This story was first published by The Moscow Times and is republished here with permission."


def main() -> None:
    seed = (HERE / "seed-article.txt").read_text(encoding="utf-8")
    seed_item = {
        "title": SEED_TITLE,
        "link": SEED_URL,
        "guid": "https://www.themoscowtimes.com/a71426",
        "date": "Sun, 13 Sep 2020 14:05:00 +0300",
        "summary": "Bloomberg: the Kremlin will not accept the opposition coming to power through street protests.",
        "html": paragraphs_html(seed),
    }
    copy_text = SYNDICATED_INTRO + "\n\n" + seed.split("\n\n", 1)[1] + "\n\nShare this article on social media."
    copy = story("Kremlin wary of Belarus protests, will back Lukashenko succession plan", "https://demo-wire.newswatch.invalid/world/kremlin-belarus-succession",
                 "wire-77812", "Sun, 13 Sep 2020 13:40:00 +0000", copy_text)  # fmt: skip
    out = HERE / "feeds"
    out.mkdir(exist_ok=True)
    (out / "moscow-times.xml").write_text(
        rss("The Moscow Times", "https://www.themoscowtimes.com", [seed_item, FILLER[0]]), encoding="utf-8"
    )
    (out / "demo-wire.xml").write_text(rss("Demo Wire", "https://demo-wire.newswatch.invalid", [copy, FILLER[1]]), encoding="utf-8")
    (out / "riverton-atom.xml").write_text(atom("Riverton Gazette", [FILLER[0]]), encoding="utf-8")


if __name__ == "__main__":
    main()
