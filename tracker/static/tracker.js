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
