// 月盘点 dashboard charts (Apache ECharts, vendored). Data comes from the JSON endpoint named by
// #monthly-charts[data-src]; nothing inline, so the CSP holds. Units only, never people.
(function () {
  "use strict";
  var EN = document.documentElement.lang === "en";
  var L = EN
    ? { done: "Completion rate", ontime: "On-time rate", overdue: "Overdue", finished: "Finished",
        moved: "Moved", completed: "Completed", stuck: "Lagging", none: "No data yet" }
    : { done: "办结率", ontime: "按期办结率", overdue: "逾期", finished: "已办结",
        moved: "推进", completed: "办结", stuck: "滞后", none: "暂无数据" };
  var LIGHT = { green: "#2e7d32", yellow: "#f9a825", red: "#b71c1c", grey: "#9e9e9e" };
  var charts = [];

  function make(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var c = window.echarts.init(el, null, { renderer: "canvas" });
    // No grow-in animation: printed pages and screenshots must show the final values.
    option.animation = false;
    c.setOption(option);
    charts.push(c);
  }

  function empty(keys) {
    return !keys || keys.length === 0 ? { text: L.none, left: "center", top: "middle",
      textStyle: { color: "#757575", fontSize: 14, fontWeight: 400 } } : undefined;
  }

  var pct = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };

  // Unit names on a category axis: slanted, all shown, room below for them.
  function unitAxis(names) {
    var many = names.length > 10;
    return { type: "category", data: names, axisLabel: { interval: 0, rotate: many ? 45 : 0, fontSize: many ? 11 : 12 } };
  }
  function unitGrid(names, top) {
    return { left: 48, right: 16, top: top, bottom: names.length > 10 ? 96 : 40 };
  }

  function draw(d) {
    var names = d.units.names;
    make("chart-by-unit", {
      title: empty(names),
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
      legend: { top: 0 },
      grid: unitGrid(names, 36),
      xAxis: unitAxis(names),
      yAxis: pct,
      series: [
        { name: L.done, type: "bar", data: d.units.completion, itemStyle: { color: "#1565c0" } },
        { name: L.ontime, type: "bar", data: d.units.on_time, itemStyle: { color: "#2e7d32" } }
      ]
    });
    make("chart-lights", {
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0 },
      series: [{
        type: "pie", radius: ["35%", "68%"], center: ["50%", "46%"],
        label: { position: "inside", formatter: "{c}", color: "#fff", fontWeight: 600 },
        data: d.lights.map(function (l) {
          return { name: l.name, value: l.value, itemStyle: { color: LIGHT[l.code] || "#999" } };
        })
      }]
    });
    make("chart-overdue", {
      title: empty(names),
      tooltip: { trigger: "axis" },
      grid: unitGrid(names, 20),
      xAxis: unitAxis(names),
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: L.overdue, type: "bar", data: d.units.overdue, itemStyle: { color: "#b71c1c" } }]
    });
    make("chart-months", {
      title: empty(d.months.keys),
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 48, top: 36, bottom: 28 },
      xAxis: { type: "category", data: d.months.keys },
      yAxis: [{ type: "value", minInterval: 1 }, pct],
      series: [
        { name: L.finished, type: "line", data: d.months.finished, itemStyle: { color: "#2e7d32" } },
        { name: L.overdue, type: "line", data: d.months.overdue, itemStyle: { color: "#b71c1c" } },
        { name: L.ontime, type: "line", yAxisIndex: 1, data: d.months.on_time, itemStyle: { color: "#1565c0" } }
      ]
    });
    make("chart-weeks", {
      title: empty(d.weeks.keys),
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: d.weeks.keys },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.moved, type: "line", data: d.weeks.moved, itemStyle: { color: "#1565c0" } },
        { name: L.completed, type: "line", data: d.weeks.completed, itemStyle: { color: "#2e7d32" } },
        { name: L.stuck, type: "line", data: d.weeks.stuck, itemStyle: { color: "#b71c1c" } }
      ]
    });
    document.getElementById("monthly-charts").setAttribute("data-ready", "true");
  }

  function resize() { charts.forEach(function (c) { c.resize(); }); }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("monthly-charts");
    if (!box) return;
    fetch(box.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(draw)
      .catch(function () { box.setAttribute("data-ready", "error"); });
    window.addEventListener("resize", resize);
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
  });
})();
