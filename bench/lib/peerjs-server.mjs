// The PeerJS server (npm `peer`, PeerServer with its defaults) in a process of its own, as the
// yardstick. Prints its URL once listening; exits on SIGTERM.
// Only change from the defaults: concurrent_limit (default 5000) is set from --concurrent-limit so
// a memory run with more clients is not refused; the relay benchmark uses 1,000 clients either way.
import { parseArgs } from 'node:util';
import { PeerServer } from 'peer';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'concurrent-limit': { type: 'string', default: '5000' } },
});

const peerServer = PeerServer(
  { port: Number(values.port), host: '127.0.0.1', path: '/', concurrent_limit: Number(values['concurrent-limit']) },
  (server) => {
    console.log(`PeerJS server listening on http://127.0.0.1:${server.address().port}`);
  },
);
let errors = 0;
peerServer.on('error', (error) => {
  if (errors++ < 5) console.error(`peerjs error: ${error?.message ?? error}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
