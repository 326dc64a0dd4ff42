// newswatch: small progressive enhancements. Every page works without this file.
// Text from feeds is only ever inserted with textContent, never as HTML.
"use strict";

function safeHttpUrl(url) {
  try {
    const u = new URL(url, window.location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (e) {
    return null;
  }
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

// Copies of a story, fetched when the reader opens them.
function loadCopies(details) {
  if (details.dataset.loaded) return;
  details.dataset.loaded = "1";
  const list = details.querySelector(".copy-list");
  fetch(details.dataset.copiesUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
    .then(({ ok, body }) => {
      list.replaceChildren();
      if (!ok) {
        list.append(el("li", body.error || "Could not load the copies.", "error"));
        return;
      }
      if (!body.length) list.append(el("li", "No copies.", "empty"));
      for (const c of body) {
        const li = el("li");
        li.append(el("strong", c.source), document.createTextNode(" · " + (c.published_at || "").slice(0, 16).replace("T", " ") + " · "));
        const href = safeHttpUrl(c.url);
        if (href) {
          const a = el("a", c.title);
          a.href = href;
          a.rel = "noopener noreferrer";
          a.target = "_blank";
          li.append(a);
        } else {
          li.append(el("span", c.title));
        }
        list.append(li);
      }
    })
    .catch(() => {
      list.replaceChildren(el("li", "Could not load the copies (network).", "error"));
    });
}

// The chart: show the bar under the pointer or keyboard focus in words.
function wireChart(fig) {
  const tip = fig.querySelector(".chart-tip");
  const show = (bar) => {
    tip.textContent = bar.dataset.key + ": " + bar.dataset.count;
  };
  for (const bar of fig.querySelectorAll("rect.bar")) {
    bar.addEventListener("mouseenter", () => show(bar));
    bar.addEventListener("focus", () => show(bar));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const d of document.querySelectorAll("details.copies")) {
    d.addEventListener("toggle", () => d.open && loadCopies(d));
  }
  for (const fig of document.querySelectorAll("figure.chart")) wireChart(fig);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  }
  // Loading state: a submitted form says so until the next page arrives.
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", () => document.body.classList.add("busy"));
  }
  // "/" focuses the search box, as in most search tools.
  const q = document.getElementById("q");
  document.addEventListener("keydown", (ev) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (q && ev.key === "/" && !typing) {
      ev.preventDefault();
      q.focus();
      q.select();
    }
  });
});
