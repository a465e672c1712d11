// The same from CommonJS (import = require).
import tls = require('rustls-tls');
import https = require('rustls-tls/https');

const socket: tls.TLSSocket = tls.connect(1);
const web: https.Server = https.createServer();
export { socket, web };
