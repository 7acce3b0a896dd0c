// Service lines (new-claim and edit pages): the total of the lines' charges, kept up to date as
// they are typed, added or removed. The server adds them up again; this is only what the biller sees.
"use strict";

function linesTotalCents(section) {
  let cents = 0;
  for (const row of section.querySelectorAll(".line-row")) {
    const removed = row.querySelector("input[name$='-DELETE']");
    const charge = row.querySelector("[data-line-charge]");
    if ((removed && removed.checked) || !charge) continue;
    const match = charge.value.trim().match(/^(\d{1,10})(?:\.(\d{0,2}))?$/);
    if (match) cents += Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  }
  return cents;
}

function dollars(cents) {
  const whole = Math.floor(cents / 100).toLocaleString("en-US");
  return `$${whole}.${String(cents % 100).padStart(2, "0")}`;
}

function updateLinesTotal(section, edited) {
  const output = section.querySelector("[data-lines-total]");
  if (!output) return;
  const cents = linesTotalCents(section);
  output.textContent = dollars(cents);
  // On the edit page the claim's total charge follows lines the biller changes.
  const total = section.form && section.form.elements.namedItem("total_charge");
  if (edited && total && cents > 0) total.value = (cents / 100).toFixed(2);
}

document.addEventListener("input", (event) => {
  const section = event.target.closest("[data-service-lines]");
  if (section) updateLinesTotal(section, true);
});

document.addEventListener("change", (event) => {
  const section = event.target.closest("[data-service-lines]");
  if (section) updateLinesTotal(section, true);
});

htmx.onLoad((root) => {
  const section = root.closest ? root.closest("[data-service-lines]") : null;
  for (const each of section ? [section] : document.querySelectorAll("[data-service-lines]")) {
    updateLinesTotal(each, false);
  }
});

// Enter in the patient search box searches (htmx answers as the biller types); it does not submit the claim.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches("[data-claim-entry] input[name='patient_q']")) {
    event.preventDefault();
  }
});
