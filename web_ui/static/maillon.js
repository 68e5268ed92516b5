// Light touches only; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" boxes for bulk actions: <input type="checkbox" data-select-all="name">.
  for (const box of document.querySelectorAll("input[data-select-all]")) {
    box.addEventListener("change", () => {
      for (const item of document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`)) item.checked = box.checked;
    });
  }
  // The menu on a phone: the "Menu" link (#menu, which opens it without JavaScript) becomes a button.
  const toggle = document.querySelector(".menu-toggle");
  const menu = document.getElementById("menu");
  if (toggle && menu) {
    toggle.setAttribute("role", "button");
    toggle.setAttribute("aria-expanded", "false");
    const show = (open) => {
      menu.classList.toggle("open", open);
      menu.classList.toggle("closed", !open);
      toggle.setAttribute("aria-expanded", String(open));
      if (open) menu.querySelector("a, button")?.focus();
    };
    toggle.addEventListener("click", (event) => { event.preventDefault(); show(!menu.classList.contains("open")); });
    toggle.addEventListener("keydown", (event) => {
      if (event.key === " ") { event.preventDefault(); show(!menu.classList.contains("open")); }
    });
    menu.querySelector(".menu-close")?.addEventListener("click", (event) => {
      event.preventDefault();
      show(false);
      toggle.focus();
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.classList.contains("open")) { show(false); toggle.focus(); }
    });
  }
  // Tables read as cards on a phone: each cell without a data-label takes its column's name.
  for (const table of document.querySelectorAll("main table")) {
    const names = [];
    for (const row of table.tHead ? table.tHead.rows : []) {
      let column = 0;
      for (const cell of row.cells) {
        while (names[column] && names[column].rowEnd > row.rowIndex) column += 1;
        const text = cell.textContent.trim().replace(/\s+/g, " ");
        for (let n = 0; n < cell.colSpan; n += 1, column += 1) {
          const above = names[column] && names[column].rowEnd <= row.rowIndex ? names[column].text : "";
          names[column] = {text: above && cell.colSpan === 1 && row.rowIndex > 0 ? `${above} · ${text}` : text || above,
                           rowEnd: row.rowIndex + cell.rowSpan};
        }
      }
    }
    for (const body of [...table.tBodies, ...(table.tFoot ? [table.tFoot] : [])]) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          if (!cell.hasAttribute("data-label") && names[column] && cell.colSpan === 1) {
            cell.dataset.label = names[column].text;
          }
          column += cell.colSpan;
        }
      }
    }
  }
  // Buttons that need a second thought: <button data-confirm="message">.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => { if (!confirm(button.dataset.confirm)) event.preventDefault(); });
  }
});
