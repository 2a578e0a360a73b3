// A background job's progress bar, shared by the pages that start jobs: POST /api/v1/jobs with the
// session's CSRF token, then poll GET /api/v1/jobs/{id} and move the bar (#job-progress, #job-percent,
// #job-label in #job) until the job is done or failed; the page's own script says what the result means.
window.bmsJob = (function () {
  "use strict";
  const POLL_MS = 250;

  function show(job) {
    document.getElementById("job-progress").value = job.percent;
    document.getElementById("job-percent").textContent = job.percent + " %";
    const label = job.label + (job.total ? " (" + job.done + " of " + job.total + ")" : "");
    document.getElementById("job-label").textContent = label;
    document.getElementById("job").dataset.state = job.state;
  }

  async function answer(response) {
    const job = await response.json();
    if (!response.ok) throw new Error(job.error || response.statusText);
    show(job);
    return job;
  }

  function poll(id, finished, failed) {
    fetch("/api/v1/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(answer)
      .then((job) => (job.state === "running" ? window.setTimeout(() => poll(id, finished, failed), POLL_MS) : finished(job)))
      .catch(failed);
  }

  // finished(job) once it is done or failed; failed(error) when the request itself goes wrong
  async function start(body, csrf, finished, failed) {
    try {
      const response = await fetch("/api/v1/jobs", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      const job = await answer(response);
      poll(job.id, finished, failed);
    } catch (error) {
      failed(error);
    }
  }

  return { start: start };
})();
