// ForgeOne dashboard: plain JS, no build step. Everything comes from the edge's own API with the
// operator's API key (kept in this tab's sessionStorage only; a "#key=..." fragment pre-fills it
// and is removed from the address bar at once).
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var samples = [];        // [{t: ms, total: entries}]
  var rates = [];          // entries/s between consecutive samples
  var SAMPLE_MS = 1000, KEEP = 120;

  var fromFragment = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (fromFragment) {
    sessionStorage.setItem('forgeone.key', decodeURIComponent(fromFragment[1]));
    history.replaceState(null, '', location.pathname);
  }
  $('key').value = sessionStorage.getItem('forgeone.key') || '';
  $('key').addEventListener('change', function () { sessionStorage.setItem('forgeone.key', $('key').value.trim()); refresh(); });

  function api(path) {
    return fetch(path, { headers: { 'Authorization': 'Bearer ' + $('key').value.trim() } }).then(function (r) {
      if (r.ok) { return r.headers.get('content-type').indexOf('json') >= 0 ? r.json() : r.text(); }
      return r.json().then(function (p) { throw new Error(p.code + ': ' + p.detail); }, function () { throw new Error('HTTP ' + r.status); });
    });
  }

  function cell(row, text, cls) { var td = row.insertCell(); td.textContent = text; if (cls) { td.className = cls; } }

  function members() {
    return api('/v1/cluster').then(function (c) {
      var body = $('members'); body.textContent = '';
      c.members.forEach(function (m) {
        var row = body.insertRow(); row.setAttribute('data-member', m.address);
        cell(row, m.address); cell(row, m.roles.filter(function (r) { return r.indexOf('region-') !== 0; }).join(', '));
        cell(row, m.status + (m.reachable ? '' : ' (unreachable)'), m.status === 'Up' && m.reachable ? 'ok' : 'bad');
      });
      $('leader').textContent = 'leader: ' + (c.leader || 'none') + ' — seen from ' + c.self;
      document.body.setAttribute('data-members', String(c.members.length));
    });
  }

  function placement() {
    return api('/v1/cluster/shards').then(function (p) {
      var body = $('placement'); body.textContent = '';
      p.placements.slice().sort(function (a, b) { return (a.node + a.region).localeCompare(b.node + b.region); }).forEach(function (x) {
        var row = body.insertRow(); cell(row, x.node); cell(row, x.region); cell(row, x.shards.join(' '));
      });
    });
  }

  function seal() {
    return api('/v1/audit/seals?limit=1').then(function (s) {
      if (s.seals.length === 0) { $('seal').textContent = 'no seal yet'; return null; }
      var last = s.seals[s.seals.length - 1];
      $('seal').className = '';
      $('seal').setAttribute('data-seal', String(last.number));
      $('seal').textContent = 'seal #' + last.number + ' at ' + last.time + ' over ' + last.heads.length + ' shard heads, root ' + last.merkleRoot.slice(0, 16) + '…';
      return api('/v1/audit/seals/verify').then(function (v) {
        $('verify').className = v.valid ? 'ok' : 'bad';
        $('verify').setAttribute('data-verified', String(v.valid));
        $('verify').textContent = (v.valid ? 'verified: ' : 'FAILED: ') + v.checked + ' seals under key ' + v.publicKeyFingerprint + (v.valid ? '' : ' — ' + v.message);
      });
    });
  }

  function keys() {
    return api('/v1/system/keys/events').then(function (k) {
      var rotations = k.events.filter(function (e) { return e.indexOf('rotated') >= 0 || e.indexOf('Rotated') >= 0; }).length;
      $('keys').textContent = k.events.length + ' key events, ' + rotations + ' rotations' + (k.events.length ? '; last: ' + k.events[k.events.length - 1] : '');
    });
  }

  function backups() {
    return api('/v1/backups?limit=1').then(function (b) {
      if (b.backups.length === 0) { $('backups').textContent = 'no backups yet'; return; }
      var last = b.backups[0];
      $('backups').className = last.status === 'completed' ? 'ok' : (last.status === 'failed' ? 'bad' : '');
      $('backups').setAttribute('data-backup', last.id);
      $('backups').textContent = 'last: ' + last.type + ' ' + last.id + ' ' + last.status + ' at ' + (last.completedAt || last.startedAt) +
        ', ' + last.shardsDone + '/' + last.shards + ' shards, regions ' + last.regions.join(', ') + (last.error ? ' — ' + last.error : '');
    });
  }

  // Newest first, each with its recovery time and point objectives and a link that fetches the
  // signed report with the operator's key (a plain link could not carry the key).
  function drills() {
    return api('/v1/dr/drills').then(function (d) {
      var body = $('drills'); body.textContent = '';
      $('drills-none').hidden = d.drills.length > 0;
      d.drills.slice(0, 10).forEach(function (x) {
        var row = body.insertRow(); row.setAttribute('data-drill', x.id); row.setAttribute('data-passed', String(x.passed));
        cell(row, x.id); cell(row, x.region); cell(row, x.at);
        cell(row, x.passed ? 'passed' : 'FAILED' + (x.failures.length ? ': ' + x.failures.join('; ') : ''), x.passed ? 'ok' : 'bad');
        cell(row, x.rtoSeconds.toFixed(1)); cell(row, x.rpoSeconds === null || x.rpoSeconds === undefined ? '-' : x.rpoSeconds.toFixed(1));
        var link = document.createElement('a'); link.href = '#drill-' + x.id; link.textContent = 'signed report';
        link.setAttribute('data-report', x.id);
        link.addEventListener('click', function (e) { e.preventDefault(); report(x.id); });
        row.insertCell().appendChild(link);
      });
      document.body.setAttribute('data-drills', String(d.drills.length));
    });
  }

  function report(id) {
    return api('/v1/dr/drills/' + encodeURIComponent(id)).then(function (r) {
      var pre = $('drill-report'); pre.hidden = false;
      pre.textContent = r.markdown + '\n\nSigned report (JSON):\n' + r.json + '\n\nDetached signature (by the cluster audit signing key, over the JSON above):\n' + r.signature;
      pre.setAttribute('data-report-of', r.id);
    }, function (e) { $('error').textContent = e.message; });
  }

  function ingestTotal() {
    return api('/metrics').then(function (text) {
      var total = 0;
      text.split('\n').forEach(function (line) {
        if (line.indexOf('forgeone_ingest_entries_total') === 0) { total += parseFloat(line.slice(line.lastIndexOf(' ') + 1)); }
      });
      return total;
    });
  }

  function sample() {
    return ingestTotal().then(function (total) {
      var now = Date.now();
      var prev = samples[samples.length - 1];
      samples.push({ t: now, total: total });
      if (prev && now > prev.t) { rates.push(Math.max(0, (total - prev.total) * 1000 / (now - prev.t))); }
      if (rates.length > KEEP) { rates.shift(); samples.shift(); }
      draw();
    });
  }

  function draw() {
    var canvas = $('rate'), g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.strokeStyle = '#d0d4dc'; g.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
    var max = Math.max.apply(null, rates.concat([1]));
    canvas.setAttribute('data-points', String(rates.length));
    canvas.setAttribute('data-max', String(Math.round(max)));
    if (rates.length < 2) { return; }
    g.strokeStyle = '#1f77b4'; g.lineWidth = 3; g.beginPath();
    rates.forEach(function (r, i) {
      var x = i * (canvas.width - 10) / (KEEP - 1) + 5, y = canvas.height - 8 - r * (canvas.height - 16) / max;
      if (i === 0) { g.moveTo(x, y); } else { g.lineTo(x, y); }
    });
    g.stroke();
    canvas.setAttribute('data-drawn', max > 1 ? 'true' : 'false');
    $('rate-now').textContent = 'now ' + Math.round(rates[rates.length - 1]) + ' entries/s, peak ' + Math.round(max);
  }

  function refresh() {
    if (!$('key').value.trim()) { $('status').textContent = 'enter an API key'; return; }
    // Backups and drills need backup:read: a key without it still sees the rest.
    var soft = function (section, id) { return section().catch(function (e) { $(id).hidden = false; $(id).className = 'bad'; $(id).textContent = e.message; }); };
    Promise.all([members(), placement(), seal(), keys(), soft(backups, 'backups'), soft(drills, 'drills-none')]).then(function () {
      $('status').textContent = 'updated ' + new Date().toLocaleTimeString(); $('error').textContent = '';
      document.body.setAttribute('data-loaded', 'true');
    }, function (e) { $('error').textContent = e.message; });
  }

  refresh();
  setInterval(refresh, 5000);
  sample();
  setInterval(function () { sample().catch(function (e) { $('error').textContent = e.message; }); }, SAMPLE_MS);
}());
