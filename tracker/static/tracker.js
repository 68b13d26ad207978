// After a refused form, take the user straight to the first field to correct.
document.addEventListener("DOMContentLoaded", () => {
  const firstError = document.querySelector("form [aria-invalid='true']");
  if (firstError) {
    firstError.focus();
  }
});

// A print button (the result sheet): the browser's own print dialog.
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});

// A form sent once: a second tap while the first is on its way sends nothing
// (the server also saves a create form only once, whatever arrives).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-once]")) {
    return;
  }
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
  // After this event, so the pressed button's own value is still sent.
  setTimeout(() => {
    for (const button of form.querySelectorAll("button[type='submit']")) {
      button.disabled = true;
    }
  });
});

// Back to a page the browser kept: its forms may be sent again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) {
    return;
  }
  for (const form of document.querySelectorAll("form[data-sent]")) {
    delete form.dataset.sent;
    for (const button of form.querySelectorAll("button[type='submit']")) {
      button.disabled = false;
    }
  }
});

// Fields that matter for one choice only ("Other activity" for Other).
function showDependentFields() {
  for (const block of document.querySelectorAll("[data-shown-when]")) {
    const [name, value] = block.dataset.shownWhen.split("=");
    const chosen = block.closest("form")?.querySelector(`[name="${name}"]:checked`);
    block.hidden = !(chosen && chosen.value === value);
  }
}
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type='radio']")) {
    showDependentFields();
  }
});

// A table wider than the screen scrolls sideways: let the keyboard scroll it
// too, and name the region for screen readers after the table's caption (or
// its section's heading), each name once on the page: a section may hold
// several such tables.
function makeScrollingTablesFocusable() {
  const taken = new Set(
    [...document.querySelectorAll(".table-responsive[aria-label]")].map(
      (region) => region.getAttribute("aria-label"),
    ),
  );
  for (const region of document.querySelectorAll(".table-responsive")) {
    const scrolls = region.scrollWidth > region.clientWidth;
    if (scrolls && !region.hasAttribute("tabindex")) {
      const caption = region.querySelector("caption");
      const heading = region.closest("section, aside, main")?.querySelector("h1, h2, h3");
      const named = caption || heading;
      const base = `${named ? named.textContent.trim() : "Table"} (scrolls sideways)`;
      let name = base;
      for (let number = 2; taken.has(name); number += 1) {
        name = `${base}, table ${number}`;
      }
      taken.add(name);
      region.tabIndex = 0;
      region.setAttribute("role", "region");
      region.setAttribute("aria-label", name);
    }
  }
}
document.addEventListener("DOMContentLoaded", makeScrollingTablesFocusable);
window.addEventListener("resize", makeScrollingTablesFocusable);
