// The labels form: while the node makes a long PDF (1 200 labels take seconds), say how far it is.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.labels-form");
  const status = document.querySelector(".labels-progress");
  if (!form || !status || !window.fetch) return;
  const bar = status.querySelector("progress");
  const text = status.querySelector("span");
  form.addEventListener("submit", () => {
    const token = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
    form.elements.progress.value = token;
    status.hidden = false;
    const ask = async () => {
      try {
        const answer = await (await fetch(`/labels/progress/${token}`, {credentials: "same-origin"})).json();
        if (answer.total > 0) {
          bar.max = answer.total;
          bar.value = answer.done;
          text.textContent = status.dataset.template.replace("{done}", answer.done).replace("{total}", answer.total);
        }
      } catch (error) { /* the page is leaving for the PDF */ }
      setTimeout(ask, 500);
    };
    setTimeout(ask, 300);
  });
});
