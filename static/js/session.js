// The idle-timeout warning (templates/security/session_timeout.html; the server decides, see
// billingpulse/security/sessions.py). The page knows how long the session has left and keeps
// that up to date from every htmx answer's X-Session-Expires-In. When its person types or clicks
// but the page sends nothing, it tells the server they are still there; when the end is near,
// it asks once more (another tab may have kept the session alive), then warns; at the end it
// reloads, and the server shows the sign-in page with the reason.
"use strict";

(() => {
  const dialog = document.getElementById("session-timeout");
  if (!dialog || dialog.dataset.expiresIn === "") return;

  const timeout = Number(dialog.dataset.timeout) * 1000;
  const warnBefore = Number(dialog.dataset.warnBefore) * 1000;
  const countdown = dialog.querySelector("[data-session-countdown]");
  const csrfToken = (() => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch { return ""; }
  })();
  let deadline = Date.now() + Number(dialog.dataset.expiresIn) * 1000;
  let activeSinceExtended = false;
  let busy = false;

  function setDeadline(expiresIn) {
    deadline = Date.now() + Number(expiresIn) * 1000;
  }

  // GET the status (counts as nothing) or POST "still here" (counts as activity).
  async function ask(method) {
    const url = method === "POST" ? dialog.dataset.extendUrl : dialog.dataset.statusUrl;
    busy = true;
    try {
      const response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken },
      });
      const body = await response.json();
      if (!body.signed_in) throw new Error("signed out");
      setDeadline(body.expires_in);
      if (method === "POST") activeSinceExtended = false;
    } finally {
      busy = false;
    }
  }

  function signedOut() {
    // A plain GET of this page: the server signs the session out and shows why.
    window.location.assign(window.location.href);
  }

  async function tick() {
    if (busy) return;
    const left = deadline - Date.now();
    try {
      if (dialog.open) {
        const seconds = Math.max(0, Math.ceil(left / 1000));
        countdown.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
        if (left <= 0) {
          await ask("GET"); // another tab may have kept the session alive
          if (deadline - Date.now() > warnBefore) dialog.close();
          else if (deadline <= Date.now()) signedOut();
        }
        return;
      }
      if (activeSinceExtended && (left <= warnBefore || timeout - left >= 60_000)) {
        // Typing or clicking that sent nothing: tell the server, at most once a minute.
        await ask("POST");
        return;
      }
      if (left <= warnBefore) {
        await ask("GET");
        if (deadline - Date.now() <= warnBefore) dialog.showModal();
      }
    } catch {
      signedOut();
    }
  }

  dialog.querySelector("[data-session-stay]").addEventListener("click", async () => {
    try { await ask("POST"); dialog.close(); } catch { signedOut(); }
  });

  let lastNoticed = 0;
  for (const type of ["keydown", "pointerdown", "input", "scroll", "wheel"]) {
    document.addEventListener(type, () => {
      if (dialog.open) return; // in the warning, only "Stay signed in" counts
      const now = Date.now();
      if (now - lastNoticed > 5000) { lastNoticed = now; activeSinceExtended = true; }
    }, { passive: true, capture: true });
  }

  document.addEventListener("htmx:afterRequest", (event) => {
    const header = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Session-Expires-In");
    if (header) setDeadline(header);
  });

  setInterval(tick, 1000);
})();
