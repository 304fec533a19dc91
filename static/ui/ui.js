// Shared page behaviour: confirmation on dangerous forms and click-to-sort tables.
// No inline handlers anywhere, so a strict Content-Security-Policy can forbid them.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form.confirm") && !window.confirm(form.dataset.confirm || "Are you sure?")) {
      event.preventDefault();
    }
  });

  function cellValue(row, index) {
    var cell = row.children[index];
    return cell ? cell.textContent.trim() : "";
  }

  function compare(a, b) {
    var na = Number(a), nb = Number(b);
    if (a !== "" && b !== "" && !isNaN(na) && !isNaN(nb)) return na - nb;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortTable(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = !th.classList.contains("sorted-asc");
    th.parentNode.querySelectorAll("th").forEach(function (other) {
      other.classList.remove("sorted-asc", "sorted-desc");
    });
    th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var result = compare(cellValue(r1, index), cellValue(r2, index));
      return ascending ? result : -result;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.addEventListener("click", function (event) {
    var th = event.target.closest && event.target.closest("th.sortable");
    if (th) sortTable(th);
  });

  // <input class="table-filter" data-table="id">: hide rows that do not contain the text.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input.table-filter")) return;
    var table = document.getElementById(input.dataset.table);
    var needle = input.value.trim().toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
    });
  });

  window.fleetweb = window.fleetweb || {};
  window.fleetweb.sortTable = sortTable;
})();
