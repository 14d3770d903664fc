/* Draws each dashboard panel with ECharts (vendored, served by the platform) from the page's JSON; a click on a
   bar, slice or point opens the records behind it (the point's url). */
(function () {
  "use strict";
  var panels = JSON.parse(document.getElementById("dash-data").textContent);
  var FONT = 16;
  if (!window.echarts) { return; }

  function option(p) {
    var text = { fontSize: FONT };
    var legend = { top: 0, textStyle: text, type: "scroll" };
    var tooltip = { trigger: p.chart === "pie" ? "item" : "axis", textStyle: text };
    if (p.chart === "pie") {
      return {
        tooltip: tooltip, legend: legend,
        series: p.series.map(function (s) {
          return { type: "pie", name: s.name, radius: ["35%", "65%"], top: 30, data: s.data,
                   label: { fontSize: FONT, formatter: "{b}\n{c}" } };
        })
      };
    }
    var horizontal = p.chart === "hbar" || p.chart === "hstack";
    var category = { type: "category", data: p.labels, axisLabel: { fontSize: FONT, interval: 0,
                     rotate: !horizontal && p.labels.length > 8 ? 35 : 0 } };
    var value = { type: "value", axisLabel: { fontSize: FONT }, scale: p.chart === "line" };
    return {
      tooltip: tooltip, legend: legend,
      grid: { left: horizontal ? 260 : 64, right: 24, top: 48, bottom: 80, containLabel: false },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({}, category, { inverse: true, axisLabel: { fontSize: FONT, width: 240, overflow: "truncate" } }) : value,
      series: p.series.map(function (s) {
        return {
          type: p.chart === "line" ? "line" : "bar", name: s.name, data: s.data, connectNulls: true, symbolSize: 10,
          stack: p.chart === "stack" || p.chart === "hstack" ? "all" : undefined,
          emphasis: { focus: "series" }
        };
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var p = panels[Number(el.getAttribute("data-chart"))];
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(p));
    chart.on("click", function (params) {
      if (params.data && params.data.url) { window.location.href = params.data.url; }
    });
    charts.push(chart);
    el.setAttribute("data-ready", "1");
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.jiancaiDashboard = charts;
})();
