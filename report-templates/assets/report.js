// Renders every figure of a page with ECharts. The data sits in the page (<script type="application/json">)
// because browsers refuse fetch() from file:// pages. Layout of the data: report-templates/schema.md.
(function () {
  'use strict';

  function axisName(title, unit) {
    if (!title) return unit || '';
    return unit ? title + ' (' + unit + ')' : title;
  }

  function markLine(fig, numericX, xIndexOf) {
    var lines = (fig.referenceLines || []).map(function (r) {
      var m = { name: r.label, label: { formatter: r.label || '', position: 'insideEndTop' } };
      if (r.axis === 'x') m.xAxis = numericX ? r.value : xIndexOf(r.value); else m.yAxis = r.value;
      return m;
    });
    return lines.length ? { symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#c23531' }, data: lines } : undefined;
  }

  // axis labels such as 0.000000005 overflow the chart: three significant digits are plenty
  function shortNumber(v) { return String(Number(Number(v).toPrecision(3))); }

  // ECharts does not stretch an axis to a markLine: a 50% threshold over data near 0 would be invisible
  function withRefs(fig, pick, fromZero) {
    var ys = (fig.referenceLines || []).filter(function (r) { return r.axis !== 'x'; }).map(function (r) { return r.value; });
    if (!ys.length) return undefined;
    if (fromZero) ys.push(0); // bars grow from zero
    return function (extent) { return pick.apply(null, [pick === Math.min ? extent.min : extent.max].concat(ys)); };
  }

  function isNumeric(labels) {
    return labels.length > 0 && labels.every(function (l) { return l !== '' && isFinite(Number(l)); });
  }

  function categoryOption(fig, type) {
    var numericX = type === 'scatter' && isNumeric(fig.xLabels);
    var series = fig.series.map(function (s, i) {
      var ys = s.values[0];
      var data = numericX ? ys.map(function (y, j) { return [Number(fig.xLabels[j]), y]; }) : ys;
      var out = { name: s.name, type: type, data: data, symbolSize: type === 'scatter' ? 8 : 4 };
      if (i === 0) out.markLine = markLine(fig, numericX, function (v) { return v; });
      return out;
    });
    return {
      xAxis: numericX ? { type: 'value', name: fig.xTitle, nameLocation: 'middle', nameGap: 30, scale: true }
                      : { type: 'category', data: fig.xLabels, name: fig.xTitle, nameLocation: 'middle', nameGap: 30,
                          axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', name: axisName(fig.yTitle, fig.unit), nameLocation: 'middle', nameGap: 50, scale: type !== 'bar',
               min: withRefs(fig, Math.min, type === 'bar'), max: withRefs(fig, Math.max, type === 'bar'),
               axisLabel: { formatter: shortNumber } },
      series: series
    };
  }

  function heatmapOption(fig) {
    var rows = fig.series[0].values, data = [], min = Infinity, max = -Infinity;
    rows.forEach(function (row, r) {
      row.forEach(function (v, c) {
        data.push([c, r, v === null ? '-' : v]);
        if (v !== null) { min = Math.min(min, v); max = Math.max(max, v); }
      });
    });
    if (!isFinite(min)) { min = 0; max = 1; }
    // room on the left for the longest row label (head-patching's rows name a direction and a head class), up to 320 px
    var longest = (fig.yLabels || []).reduce(function (m, l) { return Math.max(m, String(l).length); }, 0);
    var labelPx = Math.min(320, 7 * longest + 10);
    return {
      grid: { bottom: 90, left: labelPx + 35 },
      xAxis: { type: 'category', data: fig.xLabels, name: fig.xTitle, nameLocation: 'middle', nameGap: 30, splitArea: { show: true } },
      yAxis: { type: 'category', data: fig.yLabels, name: fig.yTitle, nameLocation: 'middle', nameGap: labelPx + 12, inverse: true, splitArea: { show: true },
               axisLabel: { width: 320, overflow: 'truncate' } }, // first row on top, like a matrix
      visualMap: { min: min, max: max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0,
                   text: [String(max.toPrecision(3)), String(min.toPrecision(3)) + (fig.unit ? ' ' + fig.unit : '')],
                   inRange: { color: ['#313695', '#74add1', '#ffffbf', '#f46d43', '#a50026'] } },
      series: [{ name: fig.series[0].name, type: 'heatmap', data: data, emphasis: { itemStyle: { borderColor: '#000' } } }]
    };
  }

  function histogramOption(fig) {
    var edges = fig.bins.edges, labels = [];
    for (var i = 0; i + 1 < edges.length; i++) labels.push(edges[i].toPrecision(3) + '…' + edges[i + 1].toPrecision(3));
    var width = (edges[edges.length - 1] - edges[0]) / (edges.length - 1);
    var xIndex = function (v) { return (v - edges[0]) / width - 0.5; }; // category i is centred on bin i
    var series = fig.series.map(function (s, i) {
      // series overlap on the shared bins (barGap -100%), translucent, so each bar spans its whole bin
      var out = { name: s.name, type: 'bar', data: fig.bins.counts[s.name], barGap: '-100%', barCategoryGap: '2%',
                  itemStyle: { opacity: 0.55 } };
      if (i === 0) out.markLine = markLine(fig, false, xIndex);
      return out;
    });
    return {
      xAxis: { type: 'category', data: labels, name: axisName(fig.xTitle, fig.unit), nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', name: fig.yTitle || 'count', nameLocation: 'middle', nameGap: 45 },
      series: series
    };
  }

  function optionFor(fig) {
    var o;
    switch (fig.kind) {
      case 'LINE': o = categoryOption(fig, 'line'); break;
      case 'BAR': o = categoryOption(fig, 'bar'); break;
      case 'SCATTER': o = categoryOption(fig, 'scatter'); break;
      case 'HEATMAP': o = heatmapOption(fig); break;
      case 'HISTOGRAM': o = histogramOption(fig); break;
      default: throw new Error('unknown figure kind ' + fig.kind);
    }
    o.animation = false; // screenshots and the browser test see the final picture at once
    o.tooltip = { trigger: fig.kind === 'HEATMAP' || fig.kind === 'SCATTER' ? 'item' : 'axis' };
    o.legend = { top: 0, type: 'scroll' };
    o.grid = Object.assign({ left: 70, right: 30, top: 40, bottom: 60 }, o.grid || {});
    o.toolbox = { feature: { saveAsImage: {} } };
    return o;
  }

  var charts = [];
  document.querySelectorAll('.chart[data-figure]').forEach(function (el) {
    var fig = JSON.parse(document.getElementById(el.getAttribute('data-figure')).textContent);
    var chart = echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(optionFor(fig));
    charts.push(chart);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  document.body.setAttribute('data-charts-rendered', String(charts.length));
})();
