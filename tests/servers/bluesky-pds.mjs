// A local AT Protocol network (PLC directory + one PDS, sqlite, disk blobs) on loopback, for tests.
// Started by tests/servers/pds.py, which installs @atproto/dev-env under Node 22 and copies this
// file next to its node_modules. Prints one JSON line {"ready":true,"pds":URL,"plc":URL} when
// healthy; stops cleanly on SIGTERM/SIGINT, or when its parent closes stdin (pytest died).
import net from 'node:net';
// neither @atproto/pds nor @did-plc/server take a bind address: force every listen(port) onto 127.0.0.1
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && args[0].path === undefined && !args[0].host) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
const { TestNetworkNoAppView } = await import('@atproto/dev-env');
const pdsPort = Number(process.env.PDS_PORT || 2583);
const plcPort = Number(process.env.PLC_PORT || 2582);
const network = await TestNetworkNoAppView.create({
  pds: { port: pdsPort, hostname: 'localhost' },
  plc: { port: plcPort },
});
console.log(JSON.stringify({ ready: true, pds: network.pds.url, plc: network.plc.url }));
let closing = false;
async function stop() {
  if (closing) return;
  closing = true;
  try { await network.close(); } finally { process.exit(0); }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
