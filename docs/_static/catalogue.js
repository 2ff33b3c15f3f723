// Filter the model catalogue's index table by kind: buttons built from the table itself.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".catalogue-index");
  if (!box) return;
  const rows = Array.from(box.querySelectorAll("tbody tr"));
  const kindOf = (row) => row.cells[1].textContent.trim();
  const kinds = ["all", ...new Set(rows.map(kindOf))];
  const bar = document.createElement("div");
  bar.className = "catalogue-filter";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "filter models by kind");
  for (const kind of kinds) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = kind;
    button.dataset.kind = kind;
    button.setAttribute("aria-pressed", kind === "all" ? "true" : "false");
    button.addEventListener("click", () => {
      for (const b of bar.children) b.setAttribute("aria-pressed", b === button ? "true" : "false");
      for (const row of rows) row.hidden = !(kind === "all" || kindOf(row) === kind);
    });
    bar.appendChild(button);
  }
  box.prepend(bar);
});
