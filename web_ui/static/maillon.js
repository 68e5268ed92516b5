// Light touches only; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" boxes for bulk actions: <input type="checkbox" data-select-all="name">.
  for (const box of document.querySelectorAll("input[data-select-all]")) {
    box.addEventListener("change", () => {
      for (const item of document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) item.checked = box.checked;
    });
  }
  // Buttons that need a second thought: <button data-confirm="message">.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => { if (!confirm(button.dataset.confirm)) event.preventDefault(); });
  }
});
