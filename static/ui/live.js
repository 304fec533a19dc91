// Live query: target picking with a live host count, SQL checking, and the results view that
// fills in while hosts answer.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text); // never innerHTML: values come from agents
    if (className) node.className = className;
    return node;
  }

  // ---- The launch form -------------------------------------------------------------------
  function setupForm(form) {
    var countEl = document.getElementById("target-count");
    var sqlEl = document.getElementById("sql");
    var checksEl = document.getElementById("sql-checks");
    var runButton = document.getElementById("run-query");
    var state = { count: 0, sqlOk: false };

    function updateRunButton() {
      if (runButton) runButton.disabled = !(state.count > 0 && state.sqlOk);
    }

    var refreshCount = debounce(function () {
      var params = new URLSearchParams();
      form.querySelectorAll("input.target:checked").forEach(function (input) { params.append(input.name, input.value); });
      fetch(form.dataset.countUrl + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          state.count = data.count;
          countEl.textContent = data.count;
          updateRunButton();
        });
    }, 200);

    var checkSql = debounce(function () {
      var body = new URLSearchParams({ sql: sqlEl.value });
      fetch(form.dataset.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          checksEl.replaceChildren();
          data.errors.forEach(function (message) { checksEl.appendChild(el("div", message, "error")); });
          data.warnings.forEach(function (message) { checksEl.appendChild(el("div", message, "warning")); });
          if (data.ok && !data.warnings.length) checksEl.appendChild(el("div", "SQL looks valid.", "muted"));
          state.sqlOk = data.ok;
          updateRunButton();
        });
    }, 300);

    form.addEventListener("change", function (event) {
      if (event.target.classList.contains("target")) refreshCount();
    });
    sqlEl.addEventListener("input", checkSql);

    var saved = document.getElementById("saved-query");
    if (saved) {
      saved.addEventListener("change", function () {
        var option = saved.selectedOptions[0];
        if (option && option.dataset.sql) {
          sqlEl.value = option.dataset.sql;
          checkSql();
        }
      });
    }

    var search = document.getElementById("target-host-search");
    var searchResults = document.getElementById("target-host-results");
    var chosen = document.getElementById("target-hosts");
    search.addEventListener("input", debounce(function () {
      var q = search.value.trim();
      searchResults.replaceChildren();
      if (!q) return;
      fetch(form.dataset.searchUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          searchResults.replaceChildren();
          data.hosts.forEach(function (host) {
            var item = el("li");
            var add = el("button", "+ " + host.hostname, "secondary");
            add.type = "button";
            add.dataset.hostId = host.id;
            add.addEventListener("click", function () {
              if (!chosen.querySelector('input[value="' + host.id + '"]')) {
                var label = el("label", null, "label-chip");
                var box = document.createElement("input");
                box.type = "checkbox";
                box.name = "hosts";
                box.value = host.id;
                box.className = "target";
                box.checked = true;
                label.appendChild(box);
                label.appendChild(document.createTextNode(" " + host.hostname));
                chosen.appendChild(label);
              }
              searchResults.replaceChildren();
              search.value = "";
              refreshCount();
            });
            item.appendChild(add);
            searchResults.appendChild(item);
          });
        });
    }, 250));

    // The table reference: clicking a table or column name types it into the editor.
    document.querySelectorAll(".reference").forEach(function (reference) {
      reference.addEventListener("click", function (event) {
        var button = event.target.closest("button.insert");
        if (!button) return;
        var text = button.dataset.insert;
        var start = sqlEl.selectionStart, end = sqlEl.selectionEnd;
        sqlEl.value = sqlEl.value.slice(0, start) + text + sqlEl.value.slice(end);
        sqlEl.focus();
        sqlEl.selectionStart = sqlEl.selectionEnd = start + text.length;
        checkSql();
      });
    });

    var tableFilter = document.getElementById("table-filter");
    if (tableFilter) {
      tableFilter.addEventListener("input", function () {
        var needle = tableFilter.value.trim().toLowerCase();
        document.querySelectorAll(".reference details").forEach(function (details) {
          details.hidden = needle !== "" && details.dataset.table.indexOf(needle) === -1;
        });
      });
    }

    refreshCount();
    if (sqlEl.value.trim()) checkSql();
    else updateRunButton();
  }

  // ---- The results view --------------------------------------------------------------------
  // Results come from the live-query API's Server-Sent Events stream; each event id is the
  // result's position, so a reconnect resumes where it left off. When the stream cannot be used
  // (a proxy that buffers or drops it), the page long-polls the same feed as JSON instead.
  function setupCampaign(root) {
    var resultsTable = document.getElementById("results");
    var headRow = resultsTable.tHead.rows[0];
    var resultsBody = resultsTable.tBodies[0];
    var hostBody = document.getElementById("host-status").tBodies[0];
    var filterInput = document.getElementById("results-filter");
    var columns = ["host"];
    var received = 0;
    var rowTotal = 0;
    var finished = false;

    function matchesFilter(row) {
      var needle = filterInput.value.trim().toLowerCase();
      return needle === "" || row.textContent.toLowerCase().indexOf(needle) !== -1;
    }

    function addColumn(name) {
      columns.push(name);
      headRow.appendChild(el("th", name, "sortable"));
      Array.prototype.forEach.call(resultsBody.rows, function (row) { row.appendChild(el("td", "")); });
    }

    function addResult(result) {
      received += 1;
      var tr = el("tr");
      tr.dataset.hostId = result.host_id;
      tr.appendChild(el("td", result.hostname));
      var statusCell = el("td");
      statusCell.appendChild(el("span", result.status, "badge " + result.status));
      tr.appendChild(statusCell);
      tr.appendChild(el("td", (result.rows || []).length, "num"));
      tr.appendChild(el("td", result.error, "wrap"));
      hostBody.appendChild(tr);
      (result.rows || []).forEach(function (data) {
        Object.keys(data).forEach(function (key) {
          if (columns.indexOf(key) === -1) addColumn(key);
        });
        var row = el("tr");
        row.appendChild(el("td", result.hostname));
        for (var i = 1; i < columns.length; i++) {
          var value = data[columns[i]];
          row.appendChild(el("td", value === undefined ? "" : (typeof value === "object" ? JSON.stringify(value) : value), "wrap"));
        }
        row.hidden = !matchesFilter(row);
        resultsBody.appendChild(row);
        rowTotal += 1;
      });
      document.getElementById("row-total").textContent = rowTotal;
    }

    function showProgress(progress) {
      document.getElementById("campaign-status").textContent = progress.status;
      document.getElementById("answered").textContent = progress.responded;
      document.getElementById("target").textContent = progress.targeted;
      document.getElementById("succeeded").textContent = progress.succeeded;
      document.getElementById("failed").textContent = progress.failed;
      document.getElementById("pending").textContent = progress.pending;
      document.getElementById("offline").textContent = progress.offline;
      var percent = progress.targeted ? Math.round((100 * progress.responded) / progress.targeted) : 100;
      document.getElementById("progress-bar").style.width = percent + "%";
      var stop = document.getElementById("stop-query");
      if (stop && progress.status !== "running") stop.disabled = true;
    }

    function longPoll() {
      var url = root.dataset.resultsUrl + "?offset=" + received + "&wait=20";
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (data) {
          if (data.offset === received) data.results.forEach(addResult);
          showProgress(data.progress);
          if (!data.done || data.results.length) setTimeout(longPoll, 0);
        })
        .catch(function () { setTimeout(longPoll, 3000); });
    }

    function stream() {
      if (!window.EventSource) return longPoll();
      var source = new EventSource(root.dataset.streamUrl + "?offset=0");
      var failures = 0;
      source.addEventListener("result", function (event) {
        failures = 0;
        // Positions are 1-based; skip anything already shown after a reconnect.
        if (Number(event.lastEventId) > received) addResult(JSON.parse(event.data));
      });
      source.addEventListener("progress", function (event) {
        failures = 0;
        showProgress(JSON.parse(event.data));
      });
      source.addEventListener("end", function () {
        finished = true;
        source.close();
      });
      source.addEventListener("error", function () {
        if (finished) return;
        failures += 1;
        if (failures >= 3) {
          source.close();
          longPoll();
        }
      });
    }

    filterInput.addEventListener("input", function () {
      Array.prototype.forEach.call(resultsBody.rows, function (row) { row.hidden = !matchesFilter(row); });
    });

    var stopForm = document.getElementById("stop-form");
    if (stopForm) {
      stopForm.addEventListener("submit", function (event) {
        event.preventDefault();
        document.getElementById("stop-query").disabled = true;
        fetch(root.dataset.stopUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken(), Accept: "application/json", "Content-Type": "application/json" },
          body: "{}"
        })
          .then(function (r) {
            if (!r.ok) throw new Error("HTTP " + r.status);
            return r.json();
          })
          .then(function (data) { showProgress(data.progress); })
          .catch(function () { stopForm.submit(); }); // fall back to the plain form
      });
    }

    stream();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("live-form");
    if (form) setupForm(form);
    var campaign = document.getElementById("campaign");
    if (campaign) setupCampaign(campaign);
  });
})();
