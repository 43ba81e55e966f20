// The console's only script, loaded from /static/ (the pages allow no inline script). The pages
// read and work without it; it adds two things:
// 1. progress bars of running runs move live, from the run's Server-Sent Events;
// 2. on the verification page, a chosen certificate file fills the form's text field;
// 3. in the sample browser, j / k open the next / previous item and Esc closes the drawer.
"use strict";

function follow(box) {
  const url = box.getAttribute("data-events");
  if (!url || typeof EventSource === "undefined") return;
  const bar = box.querySelector("progress");
  const pct = box.querySelector(".pct");
  const done = box.querySelector(".done");
  const planned = box.querySelector(".planned");
  const eta = box.querySelector(".eta");
  let total = Number(box.getAttribute("data-planned")) || 0;
  const show = (count) => {
    const share = total > 0 ? Math.min(100, Math.round((count / total) * 100)) : 0;
    bar.value = share;
    pct.textContent = share + "%";
    done.textContent = String(count);
    planned.textContent = String(total);
  };
  const source = new EventSource(url, { withCredentials: true });
  source.addEventListener("planned", (e) => {
    const data = JSON.parse(e.data);
    if (typeof data.planned === "number") total = data.planned;
    show(Number(box.getAttribute("data-done")) || 0);
  });
  source.addEventListener("progress", (e) => {
    const data = JSON.parse(e.data);
    if (typeof data.planned === "number") total = data.planned;
    show(data.done || 0);
    if (typeof data.eta_s === "number" && eta) {
      eta.textContent = "ETA " + Math.max(0, Math.round(data.eta_s)) + " s";
    }
  });
  source.addEventListener("done", () => {
    source.close();
    show(total);
    // The report is rendered by the server once the run has ended.
    window.setTimeout(() => window.location.reload(), 300);
  });
  source.onerror = () => {
    // The browser reconnects on its own with Last-Event-ID; a closed stream stays closed.
    if (source.readyState === EventSource.CLOSED) source.close();
  };
}

function fillFromFile(input) {
  const target = document.getElementById("certificate");
  if (!target) return;
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { target.value = String(reader.result); };
    reader.readAsText(file);
  });
}

function browseWithKeys() {
  const links = Array.from(document.querySelectorAll("table.samples a.item"));
  if (links.length === 0) return;
  document.addEventListener("keydown", (e) => {
    const target = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const at = links.findIndex((a) => a.getAttribute("aria-current") === "true");
    let to = null;
    if (e.key === "j") to = at < 0 ? 0 : Math.min(links.length - 1, at + 1);
    else if (e.key === "k") to = at < 0 ? 0 : Math.max(0, at - 1);
    else if (e.key === "Escape") {
      const close = document.querySelector("aside.drawer a.close");
      if (close) window.location.href = close.href;
      return;
    } else return;
    e.preventDefault();
    if (to !== at) window.location.href = links[to].href;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  browseWithKeys();
  document.querySelectorAll("div.progress[data-events]").forEach(follow);
  const file = document.getElementById("certificate-file");
  if (file) fillFromFile(file);
});
