// Document uploads: drag and drop, and one request per file with its own progress bar and
// result. Without this script the upload form posts normally (one document per file).
// Loaded by every template that shows an upload area, possibly more than once (htmx swaps
// re-run it), so it sets itself up only once; every listener is delegated.
"use strict";

(() => {
  if (window.billingPulseDocuments) return;
  window.billingPulseDocuments = true;

  function resultsOf(form) {
    return form.querySelector("[data-upload-results]");
  }

  function fieldsOf(form) {
    // Everything the form says except its files (each request carries one file).
    const data = new FormData(form);
    data.delete("file");
    return data;
  }

  function addRow(form, file) {
    const row = document.createElement("li");
    row.className = "upload-result";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", `Uploading ${file.name}`);
    const outcome = document.createElement("span");
    outcome.className = "upload-outcome";
    outcome.textContent = "Waiting…";
    row.append(name, bar, outcome);
    resultsOf(form).append(row);
    return { row, bar, outcome };
  }

  function showResult(parts, ok, answer) {
    parts.row.classList.add(ok ? "upload-ok" : "upload-refused");
    parts.bar.value = 100;
    parts.outcome.replaceChildren();
    if (ok) {
      const link = document.createElement("a");
      link.href = answer.url;
      link.textContent = answer.title;
      parts.outcome.append("Uploaded: ", link);
    } else {
      parts.outcome.setAttribute("role", "alert");
      parts.outcome.textContent = answer.message || "The upload failed. Try again.";
    }
  }

  function send(form, file, fields) {
    const parts = addRow(form, file);
    const data = new FormData();
    for (const [key, value] of fields.entries()) data.append(key, value);
    data.append("file", file, file.name);
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        parts.bar.value = Math.round((event.loaded / event.total) * 100);
        parts.outcome.textContent = `${parts.bar.value}%`;
      });
      request.addEventListener("load", () => {
        let answer = {};
        try {
          answer = JSON.parse(request.responseText);
        } catch {
          answer = { message: `The upload failed (error ${request.status}). Try again.` };
        }
        const ok = request.status >= 200 && request.status < 300 && answer.ok;
        showResult(parts, ok, answer);
        resolve(ok);
      });
      request.addEventListener("error", () => {
        showResult(parts, false, { message: "The connection dropped before the file was sent. Try again." });
        resolve(false);
      });
      request.send(data);
    });
  }

  async function uploadAll(form, files) {
    if (!files.length) {
      const results = resultsOf(form);
      const note = document.createElement("li");
      note.setAttribute("role", "alert");
      note.className = "upload-refused";
      note.textContent = "Choose a file to upload.";
      results.append(note);
      return;
    }
    const fields = fieldsOf(form);
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    let uploaded = 0;
    // One file at a time: each has its own request, bar and answer.
    for (const file of files) {
      if (await send(form, file, fields)) uploaded += 1;
    }
    if (button) button.disabled = false;
    const input = form.querySelector("input[type=file]");
    if (input) input.value = "";
    if (uploaded) document.body.dispatchEvent(new CustomEvent("documents-uploaded", { bubbles: true }));
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-upload]");
    if (!form || !window.FormData || !window.XMLHttpRequest) return;
    event.preventDefault();
    uploadAll(form, [...form.querySelector("input[type=file]").files]);
  });

  document.addEventListener("dragover", (event) => {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("is-dragging");
  });

  document.addEventListener("dragleave", (event) => {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("is-dragging");
  });

  document.addEventListener("drop", (event) => {
    const zone = event.target.closest && event.target.closest("[data-dropzone]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("is-dragging");
    const form = zone.closest("form[data-upload]");
    const files = [...(event.dataTransfer ? event.dataTransfer.files : [])];
    if (form && files.length) uploadAll(form, files);
  });
})();
