// Type-checked by __test__/types.test.js (tsc, module nodenext): each
// subpath's types, from ESM.
import tls, { connect, createServer, TLSSocket, rootCertificates } from 'rustls-tls';
import https, { Agent, createServer as createHttpsServer, request } from 'rustls-tls/https';
import 'rustls-tls/register';

const server: tls.Server = createServer({});
const socket: TLSSocket = connect({ port: 1, host: 'localhost' });
const roots: readonly string[] = rootCertificates;
const web = createHttpsServer({ key: '', cert: '' }, (req, res) => res.end(req.url));
const inner: tls.Server = web.tlsServer;
const agent = new Agent({ keepAlive: true, maxSockets: 2 });
request({ host: 'localhost', agent }, (res) => res.resume());
https.get('https://localhost/', (res) => res.statusCode);
export { server, socket, roots, inner };
