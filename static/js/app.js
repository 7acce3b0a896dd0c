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
