// surge report charts: one uPlot per chart spec built by the Go side.
function surgeCharts(data) {
  "use strict";
  function fmtPct(x) {
    // x = 1/(1-q): 1 → 0 %, 10 → 90 %, 100 → 99 % …
    var q = 100 * (1 - 1 / x);
    if (q <= 0) return "0%";
    var digits = Math.max(0, Math.round(Math.log10(x)) - 2);
    return q.toFixed(digits) + "%";
  }
  function markPlugin(spec) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.font = (12 * devicePixelRatio) + "px sans-serif";
          var l = u.bbox.left, t = u.bbox.top, w = u.bbox.width, h = u.bbox.height;
          if (spec.vline) {
            var x = u.valToPos(spec.vline.at, "x", true);
            ctx.strokeStyle = "#2ca02c";
            ctx.beginPath(); ctx.moveTo(x, t); ctx.lineTo(x, t + h); ctx.stroke();
            ctx.fillStyle = "#2ca02c";
            ctx.fillText(spec.vline.label, Math.min(x + 4 * devicePixelRatio, l + w - 150 * devicePixelRatio), t + 14 * devicePixelRatio);
          }
          if (spec.hline) {
            var y = u.valToPos(spec.hline.at, "y", true);
            ctx.strokeStyle = "#c62828";
            ctx.beginPath(); ctx.moveTo(l, y); ctx.lineTo(l + w, y); ctx.stroke();
            ctx.fillStyle = "#c62828";
            ctx.fillText(spec.hline.label, l + 6 * devicePixelRatio, y - 4 * devicePixelRatio);
          }
          ctx.restore();
        }]
      }
    };
  }
  (data.charts || []).forEach(function (spec) {
    var el = document.getElementById(spec.id);
    if (!el) return;
    var ys = [];
    var hline = spec.hline ? spec.hline.at : null;
    spec.series.forEach(function (s) {
      if (!s.y2) s.values.forEach(function (v) { if (v != null) ys.push(v); });
    });
    var ymax = Math.max.apply(null, ys.concat(hline != null ? [hline * 1.1] : [0]));
    var series = [{ label: spec.xlabel, value: spec.xticks === "percentile" ? function (u, v) { return v == null ? "" : fmtPct(v); } : null }];
    spec.series.forEach(function (s) {
      series.push({
        label: s.label, stroke: s.color, width: 2, scale: s.y2 ? "y2" : "y",
        dash: s.dash ? [6, 4] : undefined, spanGaps: false,
        points: { show: !!s.points, size: 7, fill: s.color }
      });
    });
    var xaxis = { label: spec.xlabel };
    if (spec.xticks === "percentile") {
      // One tick per decade of 1/(1-q): 0 %, 90 %, 99 %, 99.9 % …
      xaxis.splits = function (u, i, min, max) {
        var s = [];
        for (var v = 1; v <= max * 1.0001; v *= 10) if (v >= min * 0.9999) s.push(v);
        return s;
      };
      xaxis.values = function (u, vals) { return vals.map(fmtPct); };
    }
    var axes = [
      xaxis,
      { label: spec.ylabel, scale: "y" }
    ];
    var scales = { x: { time: false }, y: { range: [0, ymax > 0 ? ymax * 1.05 : 1] } };
    if (spec.xlog) { scales.x.distr = 3; scales.x.log = 10; }
    if (spec.y2label) {
      axes.push({ label: spec.y2label, scale: "y2", side: 1, grid: { show: false } });
      scales.y2 = { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } };
    }
    var opts = {
      width: Math.max(el.clientWidth, 320), height: 260,
      series: series, axes: axes, scales: scales,
      legend: { show: true }, cursor: { drag: { x: false, y: false } },
      plugins: [markPlugin(spec)]
    };
    var cols = [spec.x].concat(spec.series.map(function (s) { return s.values; }));
    new uPlot(opts, cols, el);
  });
}
