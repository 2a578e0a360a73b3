// Billing page: start a period's close or export as a job (job_bar.js moves its bar), then say what it made.
(function () {
  "use strict";
  const form = document.getElementById("job-form");
  if (!form) return;
  const box = document.getElementById("job");
  const result = document.getElementById("job-result");

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
    document.getElementById("job-progress").value = 0;
    button(true);
    await window.bmsJob.start(body, form.dataset.csrf, finished, failed);
  });
})();
