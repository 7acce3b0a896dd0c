// Small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Claims worklist: "select all on this page" and the count of selected claims. Delegated,
// so it keeps working after htmx swaps the table.
function updateClaimSelection(table) {
  const items = [...table.querySelectorAll("[data-select-item]")];
  const checked = items.filter((item) => item.checked).length;
  const all = table.querySelector("[data-select-all]");
  if (all) {
    all.checked = items.length > 0 && checked === items.length;
    all.indeterminate = checked > 0 && checked < items.length;
  }
  const count = document.querySelector("[data-selection-count]");
  if (count) count.textContent = checked ? `${checked} selected` : "";
}

document.addEventListener("change", (event) => {
  const table = event.target.closest("table");
  if (!table) return;
  if (event.target.matches("[data-select-all]")) {
    table.querySelectorAll("[data-select-item]").forEach((item) => { item.checked = event.target.checked; });
  }
  if (event.target.matches("[data-select-all], [data-select-item]")) updateClaimSelection(table);
});

// Leave empty filters out of the query string, so pushed URLs stay short and readable.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get" || !event.detail.elt.closest("[data-drop-empty-params]")) return;
  const data = event.detail.formData;
  for (const [name, value] of [...data.entries()]) {
    if (value === "") data.delete(name);
  }
});

// Patient statements: the "Print statement" button opens the browser's print dialog.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// Forms marked data-swap-errors show the server's 4xx answer (a conflict, a refusal, field
// errors) in their target, as htmx drops error answers by default.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400 && status < 500 && event.detail.elt.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The note editor (data-autosave) saves as the provider types. Changes not saved yet are sent
// when the page goes away (tab closed, link followed), and a save the network dropped is
// tried again.
const AUTOSAVE_RETRY_MS = 5000;

document.addEventListener("input", (event) => {
  const form = event.target.closest("form[data-autosave]");
  if (form) form.dataset.unsaved = "1";
});

document.addEventListener("submit", (event) => {
  if (event.target.matches("form[data-autosave]")) delete event.target.dataset.unsaved;
});

document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt;
  if (form.matches && form.matches("form[data-autosave]")) delete form.dataset.unsaved;
});

document.addEventListener("htmx:sendError", (event) => {
  const form = event.detail.elt;
  if (!form.matches || !form.matches("form[data-autosave]")) return;
  form.dataset.unsaved = "1";
  const status = document.querySelector("#autosave-status");
  if (status) status.textContent = "Not saved yet: the connection dropped. Trying again…";
  setTimeout(() => htmx.trigger(form, "autosave-retry"), AUTOSAVE_RETRY_MS);
});

window.addEventListener("pagehide", () => {
  for (const form of document.querySelectorAll("form[data-autosave][data-unsaved]")) {
    navigator.sendBeacon(form.getAttribute("hx-post"), new FormData(form));
  }
});

// An editor restored from the browser's back-forward cache may hold an old revision: reload it.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && document.querySelector("form[data-autosave]")) window.location.reload();
});

// Code pickers (data-code-picker): the search box fetches matching codes; choosing one (click,
// or Enter on it) adds it to the field named by data-code-target, which saves as if typed.
// Typing in the search box is not an edit of the form around it.
htmx.onLoad((root) => {
  for (const picker of root.querySelectorAll("[data-code-picker]")) {
    picker.addEventListener("input", (event) => event.stopPropagation());
  }
});

function chooseCode(option) {
  const picker = option.closest("[data-code-picker]");
  if (!picker || option.dataset.billable === "false") return;
  const target = document.querySelector(picker.dataset.codeTarget);
  const codes = target.value.split(/[\s,;]+/).filter(Boolean);
  if (!codes.includes(option.dataset.code)) codes.push(option.dataset.code);
  target.value = codes.join(", ");
  target.dispatchEvent(new Event("input", { bubbles: true }));
  const search = picker.querySelector("input[type=search]");
  search.value = "";
  const results = picker.querySelector("[id=code-results]");
  if (results) results.replaceChildren();
  search.focus();
}

document.addEventListener("click", (event) => {
  const option = event.target.closest("[data-code-picker] [data-code]");
  if (option) chooseCode(option);
});

document.addEventListener("keydown", (event) => {
  const option = event.target.closest("[data-code-picker] [data-code]");
  if (option && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    chooseCode(option);
  }
});

// Narrow screens: the main navigation folds behind the "Menu" button (base.html), and the
// worklist's filters behind their "Filters" summary. Without this script both stay open.
const NARROW = window.matchMedia("(max-width: 900px)");
const PHONE = window.matchMedia("(max-width: 640px)");

function setNavOpen(toggle, open) {
  toggle.setAttribute("aria-expanded", String(open));
}

for (const toggle of document.querySelectorAll(".nav-toggle[aria-controls]")) {
  toggle.hidden = false;
  setNavOpen(toggle, !NARROW.matches);
  NARROW.addEventListener("change", () => setNavOpen(toggle, !NARROW.matches));
}

document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".nav-toggle[aria-controls]");
  if (toggle) setNavOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !NARROW.matches) return;
  const toggle = document.querySelector(".nav-toggle[aria-expanded=true]");
  const panel = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (panel && (panel.contains(event.target) || event.target === toggle)) {
    setNavOpen(toggle, false);
    toggle.focus();
  }
});

for (const panel of document.querySelectorAll("details[data-fold-on-phone]")) {
  panel.open = !PHONE.matches;
  PHONE.addEventListener("change", () => { panel.open = !PHONE.matches; });
}

// "Sort by" (where the rows are cards) belongs to the filter form: choosing an order applies it.
document.addEventListener("change", (event) => {
  if (!event.target.matches("[data-sort-select]")) return;
  document.getElementById(event.target.getAttribute("form"))?.requestSubmit();
});

// The count on the folded filters follows the filters as they change.
document.addEventListener("change", (event) => {
  const form = event.target.closest("#worklist-filters");
  const count = form && form.closest("details")?.querySelector("[data-filter-count]");
  if (!count) return;
  const active = [...new FormData(form).entries()].filter(([name, value]) => name !== "sort" && value.trim()).length;
  count.firstChild.textContent = String(active);
  count.hidden = active === 0;
});

// ---------------------------------------------------------------------------------------------
// Claims worklist: "Select all N matching claims". With every row of the page selected and more
// claims matching than the page shows, a line in the toolbar offers all of them. N is read from
// the totals line (#claim-table-summary [data-matching-count]), which loads after the rows. Once
// chosen, the form sends the filters and N instead of the rows, the button says how many it
// calls and asks first, and the server calls them only if N claims still match.
function matchingClaimCount() {
  const element = document.querySelector("#claim-table-summary [data-matching-count]");
  const count = element ? Number(element.dataset.matchingCount) : NaN;
  return Number.isInteger(count) && count >= 0 ? count : null;
}

function claimCountText(count) {
  return `${count.toLocaleString("en-US")} claim${count === 1 ? "" : "s"}`;
}

// chosen: the count the biller chose to select ("all matching" mode), or null.
function renderSelectMatching(chosen) {
  const bar = document.querySelector("[data-select-matching]");
  const form = document.getElementById("claim-selection");
  if (!bar || !form) return;
  const items = [...document.querySelectorAll("#claim-table [data-select-item]")];
  const pageSelected = items.length > 0 && items.every((item) => item.checked);
  const matching = matchingClaimCount();
  if (!pageSelected) chosen = null;
  const text = bar.querySelector("[data-select-matching-text]");
  const toggle = bar.querySelector("[data-select-matching-toggle]");
  const button = form.querySelector("[data-call-button]");
  if (chosen !== null) {
    bar.dataset.chosen = String(chosen);
    text.textContent = `All ${chosen.toLocaleString("en-US")} matching ${chosen === 1 ? "claim is" : "claims are"} selected.`;
    toggle.textContent = "Clear selection";
    button.textContent = `Call ${claimCountText(chosen)}`;
    form.setAttribute("hx-confirm", `Queue a call to the payer for each of the ${claimCountText(chosen)} that match these filters?`);
    form.querySelector("[name=confirmed_count]").value = String(chosen);
    const count = document.querySelector("[data-selection-count]");
    if (count) count.textContent = `${chosen.toLocaleString("en-US")} selected`;
  } else {
    delete bar.dataset.chosen;
    text.textContent = `All ${items.length} on this page are selected.`;
    toggle.textContent = matching === null ? "" : `Select all ${matching.toLocaleString("en-US")} matching claims`;
    button.textContent = "Call selected";
    form.removeAttribute("hx-confirm");
    form.querySelector("[name=confirmed_count]").value = "";
  }
  for (const field of form.querySelectorAll("[data-select-matching-field]")) field.disabled = chosen === null;
  bar.hidden = chosen === null && !(pageSelected && matching !== null && matching > items.length);
}

// Any change to the page's checkboxes leaves "all matching" mode.
document.addEventListener("change", (event) => {
  if (event.target.closest("#claim-table") && event.target.matches("[data-select-all], [data-select-item]")) {
    renderSelectMatching(null);
  }
});

document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-select-matching-toggle]");
  if (!toggle) return;
  const bar = toggle.closest("[data-select-matching]");
  if (bar.dataset.chosen) {
    const table = document.querySelector("#claim-table table");
    for (const item of document.querySelectorAll("#claim-table [data-select-item]")) item.checked = false;
    if (table) updateClaimSelection(table);
    renderSelectMatching(null);
    return;
  }
  // The count at the moment of the click: the totals line may have been refreshed since.
  const matching = matchingClaimCount();
  if (matching !== null) renderSelectMatching(matching);
});

// The totals line arrives after the rows (and again with each refresh of the table).
htmx.onLoad((root) => {
  if (root.matches?.("[data-matching-count], #claim-table-summary") || root.querySelector?.("[data-matching-count]")) {
    const bar = document.querySelector("[data-select-matching]");
    renderSelectMatching(bar?.dataset.chosen ? Number(bar.dataset.chosen) : null);
  }
});
