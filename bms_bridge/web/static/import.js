// Import page: send the chosen CSV file's text as an import job (POST /api/v1/jobs, with the session's
// CSRF token), poll GET /api/v1/jobs/{id} and move the bar; then the rows stored or every refusal by line.
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form) return;
  const box = document.getElementById("job");
  const bar = document.getElementById("job-progress");
  const percent = document.getElementById("job-percent");
  const label = document.getElementById("job-label");
  const result = document.getElementById("job-result");
  const refused = document.getElementById("import-refused");
  const start = document.getElementById("import-start");
  const POLL_MS = 250;

  function show(job) {
    bar.value = job.percent;
    percent.textContent = job.percent + " %";
    label.textContent = job.label + (job.total ? " (" + job.done + " of " + job.total + ")" : "");
    box.dataset.state = job.state;
  }

  function finished(job) {
    start.disabled = false;
    if (job.state === "failed") {
      result.className = "error";
      result.textContent = "Failed: " + job.error;
      return;
    }
    const r = job.result;
    if (r.refused.length) {
      result.className = "error";
      result.textContent = r.file + ": " + r.refused.length + " problem(s) in " + r.rows + " row(s); nothing stored.";
      const body = refused.querySelector("tbody");
      for (const problem of r.refused) {
        const row = body.insertRow();
        row.insertCell().textContent = problem.line;
        row.cells[0].className = "num";
        row.insertCell().textContent = problem.message;
      }
      refused.hidden = false;
      return;
    }
    result.className = "ok";
    result.textContent = r.file + ": " + r.rows + " row(s) checked, " + r.stored + " reading(s) stored, " +
      r.already_present + " already present." + (r.messages.length ? " " + r.messages.join(" ") : "");
  }

  async function poll(id) {
    const response = await fetch("/api/v1/jobs/" + encodeURIComponent(id), { credentials: "same-origin" });
    const job = await response.json();
    if (!response.ok) throw new Error(job.error || response.statusText);
    show(job);
    if (job.state === "running") {
      window.setTimeout(() => poll(id).catch(failed), POLL_MS);
    } else {
      finished(job);
    }
  }

  function failed(error) {
    start.disabled = false;
    result.className = "error";
    result.textContent = "Could not import: " + error.message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = document.getElementById("import-file").files[0];
    if (!file) return;
    box.hidden = false;
    result.textContent = "";
    refused.hidden = true;
    refused.querySelector("tbody").replaceChildren();
    bar.value = 0;
    if (file.size > Number(form.dataset.max)) {
      failed(new Error(file.name + " is larger than " + form.dataset.max + " bytes; split it"));
      return;
    }
    start.disabled = true;
    try {
      const body = { kind: "import", name: file.name, csv: await file.text() };
      const response = await fetch("/api/v1/jobs", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
        body: JSON.stringify(body),
      });
      const job = await response.json();
      if (!response.ok) throw new Error(job.error || response.statusText);
      show(job);
      await poll(job.id);
    } catch (error) {
      failed(error);
    }
  });
})();
