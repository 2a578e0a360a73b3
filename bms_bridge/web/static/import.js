// Import page: send the chosen CSV file's text as an import job (job_bar.js moves its bar), then show the
// rows stored or every refusal by its line.
(function () {
  "use strict";
  const form = document.getElementById("import-form");
  if (!form) return;
  const box = document.getElementById("job");
  const result = document.getElementById("job-result");
  const refused = document.getElementById("import-refused");
  const start = document.getElementById("import-start");

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
    document.getElementById("job-progress").value = 0;
    if (file.size > Number(form.dataset.max)) {
      failed(new Error(file.name + " is larger than " + form.dataset.max + " bytes; split it"));
      return;
    }
    start.disabled = true;
    const body = { kind: "import", name: file.name, csv: await file.text() };
    await window.bmsJob.start(body, form.dataset.csrf, finished, failed);
  });
})();
