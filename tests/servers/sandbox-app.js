// A stand-in for the application the runbooks watch: the health, metrics and JWKS endpoints of runbook 002.
// Started by tests/servers.sh on 127.0.0.1; answers only what a health check asks.
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 0);
const started = Date.now();

const routes = {
  '/api/simple-health': () => [200, 'application/json', { status: 'ok' }],
  '/api/health': () => [200, 'application/json', {
    status: 'ok',
    uptime: Math.round((Date.now() - started) / 1000),
    checks: { database: 'ok', redis: 'ok', secrets: 'ok' },
  }],
  '/api/unhealthy': () => [503, 'application/json', { status: 'error', checks: { database: 'down' } }],
  '/.well-known/jwks.json': () => [200, 'application/json', {
    keys: [{ kty: 'RSA', kid: 'sandbox-1', use: 'sig', alg: 'RS256', n: 'sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw', e: 'AQAB' }],
  }],
  '/api/metrics': () => [200, 'text/plain; version=0.0.4', [
    '# HELP process_uptime_seconds Seconds since the process started.',
    '# TYPE process_uptime_seconds gauge',
    `process_uptime_seconds ${((Date.now() - started) / 1000).toFixed(3)}`,
    '# HELP http_requests_total Requests served.',
    '# TYPE http_requests_total counter',
    'http_requests_total{route="/api/health",status="200"} 42',
    '# HELP http_request_duration_seconds Request latency.',
    '# TYPE http_request_duration_seconds histogram',
    'http_request_duration_seconds_bucket{le="0.05"} 30',
    'http_request_duration_seconds_bucket{le="0.1"} 38',
    'http_request_duration_seconds_bucket{le="0.25"} 41',
    'http_request_duration_seconds_bucket{le="0.5"} 42',
    'http_request_duration_seconds_bucket{le="+Inf"} 42',
    'http_request_duration_seconds_sum 2.9',
    'http_request_duration_seconds_count 42',
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${process.memoryUsage().rss}`,
    '',
  ].join('\n')],
};

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if (path === '/api/slow') {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') || 1000);
    setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); }, ms);
    return;
  }
  if (path === '/api/echo') {
    // Answers with the body it is given: what a hostile or broken endpoint can make a check report.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(new URL(req.url, 'http://x').searchParams.get('body') || '');
    return;
  }
  const route = routes[path];
  if (!route) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
  const [status, type, body] = route();
  res.writeHead(status, { 'content-type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
});
server.listen(port, '127.0.0.1', () => console.log(`sandbox app on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
