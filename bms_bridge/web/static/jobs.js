// Billing page: start a period's close or export as a job (POST /api/v1/jobs, with the session's CSRF
// token), then poll GET /api/v1/jobs/{id} and move the bar until the job is done or failed.
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  if (!form) return;
  const box = document.getElementById("job");
  const bar = document.getElementById("job-progress");
  const percent = document.getElementById("job-percent");
  const label = document.getElementById("job-label");
  const result = document.getElementById("job-result");
  const POLL_MS = 250;

  function show(job) {
    bar.value = job.percent;
    percent.textContent = job.percent + " %";
    label.textContent = job.label + (job.total ? " (" + job.done + " of " + job.total + ")" : "");
    box.dataset.state = job.state;
  }

  function finished(job) {
    button(false);
    if (job.state === "failed") {
      result.className = "error";
      result.textContent = "Failed: " + job.error;
      return;
    }
    result.className = "ok";
    const r = job.result;
    if (job.kind === "close") {
      result.textContent = r.period + " closed: " + r.created + " statement(s) created as draft, " + r.kept + " kept. ";
      const link = document.createElement("a");
      link.href = "/billing?period=" + encodeURIComponent(r.period);
      link.textContent = "Show them";
      result.appendChild(link);
    } else {
      result.textContent = r.period + ": " + r.statements + " statement(s) in " + r.file + " (" + r.bytes + " bytes). ";
      const link = document.createElement("a");
      link.href = "/api/v1/jobs/" + encodeURIComponent(job.id) + "/file";
      link.id = "job-download";
      link.textContent = "Download";
      result.appendChild(link);
    }
  }

  function button(busy) { document.getElementById("job-start").disabled = busy; }

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
    button(false);
    result.className = "error";
    result.textContent = "Could not run the job: " + error.message;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [kind, format] = document.getElementById("job-action").value.split(":");
    const body = { kind: kind, period: document.getElementById("job-period").value.trim() };
    if (format) body.format = format;
    box.hidden = false;
    result.textContent = "";
    bar.value = 0;
    button(true);
    try {
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
