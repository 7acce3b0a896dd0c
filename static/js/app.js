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
