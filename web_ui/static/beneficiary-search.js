// The beneficiary search of the distribution page, as one types: without JavaScript, the
// "Search" button asks the page again with the same search (server side). Here the list of
// beneficiaries is replaced by what /beneficiaries/choices finds; text only, never HTML.
document.addEventListener("DOMContentLoaded", () => {
  for (const field of document.querySelectorAll("input[data-choices][data-list]")) {
    const list = document.getElementById(field.dataset.list);
    const status = document.getElementById(field.id.replace(/-q$/, "-found"));
    if (!list) continue;
    const placeholder = list.options[0];  // "Choose a beneficiary"
    let timer = null;
    let pending = null;
    const search = async () => {
      if (pending) pending.abort();
      pending = new AbortController();
      let found;
      try {
        const answer = await fetch(`${field.dataset.choices}?q=${encodeURIComponent(field.value)}`,
                                   {signal: pending.signal, headers: {Accept: "application/json"}});
        if (!answer.ok) return;
        found = (await answer.json()).beneficiaries;
      } catch (error) {
        return;  // aborted by a newer search, or offline: the list stays as it was
      }
      const chosen = list.value;
      const options = found.map((b) => {
        const option = new Option([b.code, b.category, b.referrer].filter(Boolean).join(" · "), String(b.id));
        option.selected = String(b.id) === chosen || found.length === 1;
        return option;
      });
      list.replaceChildren(placeholder, ...options);
      if (status) status.textContent = field.value.trim() ? (list.dataset.found || "{count}").replace("{count}", found.length) : "";
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {  // the list already shows what was found: choose in it
        event.preventDefault();
        clearTimeout(timer);
        search().then(() => list.focus());
      }
    });
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
  }
});
